"""The vid2vid family (issue 14): smoke, exact replay (two runs, rewind across a curriculum step, checkpoints and
`train --resume`), the moving-digit clips (exact motion, held-out digits), the curriculum, the temporal switches, the
video metrics and the CLI's clip sampling."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.config import ConfigError
from ganengine.data import moving
from ganengine.families import vid2vid
from ganengine.metrics.video import clip_report, shift, warp_error
from ganengine.models.sequential import rollout, translate
from ganengine.presets import get_preset
from ganengine.run import GANRun

TINY = ["--width", "4", "--depth", "1", "--batch-size", "2", "--threads", "1"]


def tiny(preset="moving-digits", **overrides):
    """The preset at width 4, 1 D layer, 2 clips a batch (fast), on the CPU."""
    return get_preset(preset).build(width=4, depth=1, batch_size=2, device="cpu", sample_every=5, log_every=5,
                                    **overrides)


def steps(run, n):
    rows = []
    for _ in range(n):
        run.train_iteration()
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def scalars(rows):
    return rows[:, 2:-3]  # the family's named scalars (not step, time, speed or lrs)


def same(a, b) -> bool:
    """Bit-equal scalars, NaN where both did not compute a term (D_T's before clips have 3 frames)."""
    return np.array_equal(a, b, equal_nan=True)


@pytest.fixture
def fast_curriculum(monkeypatch):
    monkeypatch.setattr(vid2vid, "SEQ_DOUBLE_EVERY", 2)   # 2, 2, 4, 4, 8, ... frames


def test_smoke_the_objective_and_both_views(fast_curriculum):
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert set(run.nets) == {"G", "D", "D_T"} and run.family.phases == ("both",)
    rows = steps(run, 3)
    c = run.history.index
    assert list(rows[:, c["schedule/seq_len"]]) == [2, 2, 4] and np.all(rows[:, c["warp"]] > 0)
    assert np.isnan(rows[:2, [c["loss/D/T"], c["loss/G/T"]]]).all()           # 2 frames: no 3-frame window yet
    assert np.isfinite(rows[2, [c[n] for n in run.family.scalars]]).all()
    gan_t = np.nan_to_num(rows[:, c["loss/G/T"]])
    total = rows[:, c["loss/G/GAN"]] + 1.0 * gan_t + 100.0 * rows[:, c["loss/G/L1"]]
    np.testing.assert_allclose(rows[:, c["loss/G"]], total, rtol=1e-5)
    np.testing.assert_allclose(rows[:, c["loss/D"]], rows[:, c["loss/D/image"]] + np.nan_to_num(rows[:, c["loss/D/T"]]),
                               rtol=1e-5)
    assert run.updates == {"G": 3, "D": 3} and run.non_finite(rows) is None
    v = run.render_visuals()
    assert v["views"] == ("strip", "clips") and v["frame"] is v["strip"]
    assert v["strip"].shape == (12 * 34 + 2, 8 * 34 + 2, 3)                  # 4 clips x 3 rows, 8 frames
    assert v["clips"].dtype == np.uint8 and v["clips"].ndim == 4 and len(v["clips"]) == 8   # an animation
    assert all(v["captions"][view] for view in v["views"])


def test_the_curriculum_is_a_function_of_the_step(fast_curriculum):
    assert [vid2vid.seq_len(s, 8) for s in range(7)] == [2, 2, 4, 4, 8, 8, 8]
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert list(steps(run, 6)[:, run.history.index["schedule/seq_len"]]) == [2, 2, 4, 4, 8, 8]


def test_two_runs_with_one_seed_give_the_same_scalars():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    assert same(scalars(steps(a, 4)), scalars(steps(b, 4)))
    c = GANRun(config=config.with_changes(seed=1), knobs=knobs)
    assert not np.array_equal(scalars(steps(c, 4))[:, 0], scalars(steps(GANRun(config=config, knobs=knobs), 4))[:, 0])


def test_rewind_across_a_curriculum_step_is_bit_identical_with_ema(fast_curriculum):
    config, knobs = tiny(ema_decay=0.999)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    run.render_visuals()                                        # a restore point at step 1 (clips of 2 frames)
    straight = steps(run, 4)                                    # steps 2..5: 2, 4, 4, 8 frames
    ema = [p.clone() for p in run.sampler().parameters()]
    assert run.rewind(1) == 1
    again = steps(run, 4)
    assert same(scalars(straight), scalars(again))
    assert all(torch.equal(x, y) for x, y in zip(ema, run.sampler().parameters()))


def test_checkpoint_round_trip_continues_exactly(fast_curriculum):
    config, knobs = tiny(ema_decay=0.99)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 3)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "vid2vid" and set(ckpt["state"]["ema"]) == {"G"} and ckpt["_spec"].kind == "sequence"
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert same(scalars(steps(a, 3)), scalars(steps(b, 3)))


def test_clips_move_exactly_along_their_paths_and_bounce():
    src = moving.MovingDigitSource(seed=3)
    clips = src.sample(16)
    assert clips.frames.shape == clips.condition.shape == (16, 8, 1, 32, 32)
    d = clips.path[:, 1:] - clips.path[:, :-1]
    assert d.abs().max() <= 2 and (d != 0).any(-1).float().mean() > 0.9   # 1-2 px per axis (0 in a bounce)
    assert clips.path.min() >= 0 and clips.path.max() <= moving.ROOM
    assert (d[:, 1:] * d[:, :-1] < 0).any()                            # some clip turns round at a wall
    assert warp_error(clips.frames, clips.path).max() == 0             # frame_t = shift(frame_{t-1}) exactly
    assert torch.equal(shift(clips.frames[:, 0], d[:, 0]), clips.frames[:, 1])
    assert warp_error(clips.condition, clips.path).max() < 0.005       # the edges too, but where a wall cuts them
    assert clips.condition.eq(1).any() and set(clips.condition.unique().tolist()) == {-1.0, 1.0}   # edge maps


def test_held_out_digits_are_never_trained_on_and_the_same_in_every_run():
    data = moving.load_tiles()
    assert len(data["test"]) == 500 and not set(data["test"].tolist()) & set(data["train"].tolist())
    a, b = moving.MovingDigitSource(seed=0).held_out(8), moving.MovingDigitSource(seed=5).held_out(8)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.path, b.path)
    assert torch.equal(moving.held_out_clips(30).label.bincount(), torch.full((10,), 3))   # classes interleaved
    src = moving.MovingDigitSource(seed=0)
    state = src.get_state()
    first = src.sample(4, 6)
    src.set_state(state)
    again = src.sample(4, 6)
    assert torch.equal(first.frames, again.frames) and torch.equal(first.path, again.path)


def test_metrics_real_clips_score_perfectly_and_flicker_raises_the_warp_error():
    real = moving.held_out_clips(40)
    r = clip_report(real.frames, real.frames, real.label, real.path)
    assert r["l1"] == 0 and r["warp"] == 0 and r["com_error"] == 0 and r["travel"] == r["travel_real"] > 5
    assert r["accuracy"] > 0.9 and r["confidence"] > 0.9 and r["kept"] > 0.8
    g = torch.Generator().manual_seed(0)
    flicker = (real.frames + 0.3 * torch.randn(real.frames.shape, generator=g) * (real.frames > -1)).clamp(-1, 1)
    f = clip_report(flicker, real.frames, real.label, real.path)
    assert f["warp"] > 0.02 and f["l1"] > 0
    still = real.frames[:, :1].expand_as(real.frames)                 # a digit that does not move
    s = clip_report(still, real.frames, real.label, real.path)
    assert s["travel"] == 0 and s["com_error"] > 2


def test_the_switches_previous_frame_and_temporal_d(fast_curriculum):
    torch.manual_seed(0)
    from ganengine.models.unet import UNetGenerator
    G = UNetGenerator(in_channels=3, out_channels=2, image_size=32, width=4).eval()
    c = moving.held_out_clips(2, frames=4)
    s, p = c.condition, c.path
    with torch.no_grad():
        per_frame = rollout(G, s, p, use_prev=False)
        alone = torch.stack([rollout(G, s[:, t:t + 1], p[:, t:t + 1])[:, 0] for t in range(4)], 1)
        seq, masks = rollout(G, s, p, use_prev=True, parts=True)
    assert torch.allclose(per_frame, alone) and not torch.allclose(seq[:, 1:], per_frame[:, 1:])
    assert torch.allclose(seq[:, 0], per_frame[:, 0])                   # frame 0 has no previous frame either way
    assert (masks[:, 0] == 0).all() and (masks[:, 1:] > 0).all() and (masks <= 1).all()
    config, knobs = tiny("moving-digits-per-frame")
    run = GANRun(config=config, knobs=knobs)
    assert run.knobs.get("lambda_T") == 0 and run.knobs.get("prev_frame") == 0
    before = [p.clone() for p in run.nets["D_T"].parameters()]
    rows = steps(run, 3)                                               # 2, 2, 4 frames
    c = run.history.index
    assert np.isnan(rows[:, c["loss/D/T"]]).all() and np.isnan(rows[:, c["loss/G/T"]]).all()
    assert all(torch.equal(x, y) for x, y in zip(before, run.nets["D_T"].parameters()))   # D_T untouched
    run.apply_knobs(run.knobs.with_changes(lambda_T=2.0, prev_frame=1.0))
    rows = steps(run, 1)
    assert np.isfinite(rows[:, c["loss/D/T"]]).all()


class Copy(torch.nn.Module):
    """A G that draws `first` raw and keeps all of the warped previous frame (mask 1)."""
    def __init__(self, first):
        super().__init__()
        self.first = first                                               # (B, 1, H, W)

    def forward(self, x):                                                # (B, 3, H, W) -> (B, 2, H, W)
        return torch.cat([self.first, torch.ones_like(x[:, :1])], 1)


def test_the_previous_frame_is_warped_by_the_motion_and_blended_by_the_mask():
    c = moving.held_out_clips(3)
    assert torch.equal(translate(c.frames[:, 0], c.path[:, 1] - c.path[:, 0]), c.frames[:, 1])
    assert (translate(c.frames[:, 0], torch.tensor([[0, 40]] * 3)) == -1).all()       # moved off: black comes in
    fake, masks = rollout(Copy(c.frames[:, 0]), c.condition, c.path, parts=True)
    assert torch.equal(fake, c.frames) and float(warp_error(fake, c.path).max()) == 0   # frame 0, then carried
    assert (masks[:, 0] == 0).all() and (masks[:, 1:] == 1).all()
    still = rollout(Copy(c.frames[:, 0]), c.condition, None)             # no path: standing still
    assert torch.equal(still, c.frames[:, :1].expand_as(still))
    per_frame = rollout(Copy(c.frames[:, 0]), c.condition, c.path, use_prev=False)
    assert torch.equal(per_frame, c.frames[:, :1].expand_as(per_frame))  # drawn raw each frame: nothing carried


def test_quality_job_and_rendering_a_path():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    r = run.family.quality_job(0)()
    assert r["kind"] == "video" and r["clips"] == 50 and r["frames"] == 8 and len(r["psnr_per_frame"]) == 8
    assert r["warp_real"] == 0 and 0 <= r["kept"] <= 1
    tile = moving.load_tiles()["tiles"][0]
    path = torch.tensor([[0, 0], [3, 3], [6, 6], [12, 0]])
    out = vid2vid.Vid2VidFamily.render_path(run.sampler(), tile, path)
    assert out["generated"].shape == out["real"].shape == (4, 1, 32, 32)
    assert torch.equal(out["real"][1], shift(out["real"][:1], torch.tensor([[3, 3]]))[0])
    with pytest.raises(ConfigError, match="stay on the canvas"):
        vid2vid.Vid2VidFamily.render_path(run.sampler(), tile, torch.tensor([[0, 0], [13, 0]]))


def test_cli_train_sample_eval_resume_and_refusals(tmp_path, capsys):
    common = ["--preset", "moving-digits", *TINY, "--seed", "2", "--quiet"]
    assert main(["train", *common, "--steps", "4", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *common, "--steps", "2", "--out", str(tmp_path / "split")]) == 0
    ckpt = str(tmp_path / "split" / "checkpoint.pt")
    assert main(["sample", ckpt, "--n", "5", "--seed", "1", "--out", str(tmp_path / "clips.npz")]) == 0
    z = np.load(tmp_path / "clips.npz")
    assert z["clips"].shape == z["condition"].shape == (5, 8, 1, 32, 32) and z["clips"].dtype == np.float32
    assert -1 <= z["clips"].min() and z["clips"].max() <= 1 and z["label"].shape == (5,)
    assert main(["sample", ckpt, "--n", "3", "--out", str(tmp_path / "clip.gif")]) == 0
    from PIL import Image
    assert Image.open(tmp_path / "clip.gif").n_frames == 8
    capsys.readouterr()
    assert main(["eval", ckpt, "--n", "20"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "vid2vid" and report["kind"] == "video" and report["clips"] == 20
    for bad, why in ((["--out", str(tmp_path / "s.png")], "must end in .npz or .gif"),
                     (["--n", "0", "--out", str(tmp_path / "s.npz")], "--n must be"),
                     (["--label", "3", "--out", str(tmp_path / "s.npz")], "do not apply to clips")):
        assert main(["sample", ckpt, *bad]) == 2
        err = capsys.readouterr().err
        assert why in err and len(err.strip().splitlines()) == 1
    assert main(["translate", ckpt, "--split", "test", "--out", str(tmp_path / "x.npz")]) == 2
    assert main(["train", "--resume", ckpt, "--steps", "2", "--quiet", "--threads", "1",
                 "--out", str(tmp_path / "split")]) == 0

    def rows(path):
        return [json.loads(line) for line in path.read_text().splitlines()]
    straight, split = rows(tmp_path / "straight" / "metrics.jsonl"), rows(tmp_path / "split" / "metrics.jsonl")
    assert [r["step"] for r in split] == list(range(1, 5))
    keys = ("loss/D", "loss/G", "loss/G/L1", "loss/D/image", "D(x)", "grad/G", "grad/D", "warp")  # (no D_T at 2 frames)
    assert [[r[k] for k in keys] for r in straight] == [[r[k] for k in keys] for r in split]
