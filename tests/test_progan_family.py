"""The progressive GAN family (issue 13): the growth schedule, the networks' ingredients, smoke, exact replay across
fades (rewind, rollback, checkpoints, CLI resume), the views, SWD, the face data and the CLI verbs."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import CheckpointError, build_checkpoint, checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.families.progan import fade_start, growth
from ganengine.models.progan import ProCritic, ProGenerator, minibatch_stddev, pixel_norm
from ganengine.presets import get_preset
from ganengine.run import GANRun

P = 2    # steps per phase in the tiny runs: 32 px at step 12
TINY = ["--width", "8", "--batch-size", "8", "--phase-steps", str(P), "--threads", "1"]


def tiny(**overrides):
    """The progan-digits preset at width 8, batch 8, 2 steps per phase, on the CPU."""
    return get_preset("progan-digits").build(width=8, batch_size=8, phase_steps=P, device="cpu", sample_every=3,
                                             log_every=3, **overrides)


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def scalars(rows):
    return rows[:, 2:-3]    # the family's named scalars (not step, time, speed or lrs)


def same_images(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


# ---- the schedule and the networks ---------------------------------------------------------------------------------
def test_growth_is_a_pure_function_of_the_step():
    assert [growth(s, 10) for s in (0, 9, 10, 15, 19, 20, 29, 30, 35, 50, 59, 60, 10**6)] == [
        (0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 0.9), (1, 1.0), (1, 1.0), (2, 0.0), (2, 0.5), (3, 0.0), (3, 0.9),
        (3, 1.0), (3, 1.0)]
    assert [fade_start(k, 10) for k in (1, 2, 3)] == [10, 30, 50]


def test_fade_in_starts_at_the_old_level_and_ends_at_the_new_one():
    torch.manual_seed(0)
    G, z = ProGenerator(latent_dim=8, channels=1, width=8), torch.randn(5, 8)
    old = G.at_level(z, 1, 1.0)                                                 # (5, 1, 8, 8)
    start, end, mid = G.at_level(z, 2, 0.0), G.at_level(z, 2, 1.0), G.at_level(z, 2, 0.25)
    assert start.shape == end.shape == (5, 1, 16, 16)
    assert torch.allclose(start, old.repeat_interleave(2, -1).repeat_interleave(2, -2))   # nearest-up old level
    assert torch.allclose(mid, 0.75 * start + 0.25 * end, atol=1e-6)
    G.set_growth(1, 1.0)
    assert G(z).shape == (5, 1, 32, 32) and torch.allclose(G(z), G.at_level(z).clamp(-1, 1).repeat_interleave(4, -1)
                                                           .repeat_interleave(4, -2))
    D = ProCritic(channels=1, width=8)
    D.set_growth(2, 0.0)
    x = torch.randn(4, 1, 32, 32)
    assert torch.allclose(D(x), D.score(torch.nn.functional.avg_pool2d(x, 2), 2, 0.0))   # 32 px pooled to 16
    assert torch.allclose(D.score(torch.nn.functional.avg_pool2d(x, 2), 2, 0.0), D.score(torch.nn.functional.avg_pool2d(x, 4), 1, 1.0))
    with pytest.raises(ValueError, match="alpha"):
        D.set_growth(4, 1.0)


def test_pixel_norm_minibatch_stddev_and_equalised_lr():
    x = torch.randn(8, 5, 3, 3) * 7
    assert torch.allclose(pixel_norm(x).pow(2).mean(1), torch.ones(8, 3, 3), atol=1e-4)
    y = minibatch_stddev(x)
    assert y.shape == (8, 6, 3, 3) and torch.equal(y[:, :5], x)
    groups = x.reshape(4, 2, 5, 3, 3)                                            # sample i is in group i % 2
    expected = groups.std(0, unbiased=False).mean((1, 2, 3))
    assert torch.allclose(y[0, 5, 0, 0], expected[0], atol=1e-5) and torch.allclose(y[3, 5, 2, 1], expected[1], atol=1e-5)
    assert minibatch_stddev(torch.ones(6, 2, 4, 4))[:, 2].abs().max() < 1e-3     # no variety: ~0
    G = ProGenerator(latent_dim=64, channels=1, width=32)
    assert abs(float(G.conv0.weight.std()) - 1) < 0.05 and G.conv0.scale == pytest.approx(np.sqrt(2 / (32 * 9)))


# ---- the family on the run ---------------------------------------------------------------------------------------
def test_smoke_every_phase_grows_to_32_px_marks_each_growth_and_draws_both_views():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert run.family.phases == ("both", "d", "g") and run.knobs.get("drift") == 0.001 and run.knobs.loss == "hinge"
    rows = np.concatenate([steps(run, 12), steps(run, 1, "d"), steps(run, 1, "g")])
    c = run.history.index
    assert list(rows[:, c["grow/resolution"]]) == [4, 4, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 32]
    assert list(rows[:, c["grow/alpha"]]) == [1, 1, 0, 0.5, 1, 1, 0, 0.5, 1, 1, 0, 0.5, 1, 1]
    assert np.isfinite(rows[:12, [c[n] for n in run.family.scalars]]).all()
    assert np.isnan(rows[12, c["loss/G"]]) and np.isnan(rows[13, c["loss/D"]])
    assert run.non_finite(rows) is None and run.updates == {"G": 13, "D": 13}
    assert [(e.step, e.text) for e in run.events if e.kind == "grow"] == [
        (2, "8 px fades in over 2 steps"), (4, "8 px stable"), (6, "16 px fades in over 2 steps"), (8, "16 px stable"),
        (10, "32 px fades in over 2 steps"), (12, "32 px stable")]
    assert {k: tuple(t.shape) for k, t in run.family.level_images.items()} == {
        "0": (8, 1, 4, 4), "1": (8, 1, 8, 8), "2": (8, 1, 16, 16)}
    assert run.sampler().growth() == run.nets["D"].growth() == (3, 1.0)
    v = run.render_visuals()
    assert v["views"] == ("grid", "levels") and v["frame"] is v["grid"]
    assert v["grid"].shape == (13 + 8 * 34 + 2, 8 * 34 + 2, 3) and v["levels"].shape == (13 + 8 * 34 + 2, 4 * 34 + 2, 3)
    assert "32 px" in v["captions"]["grid"] and "fades in over 2 steps" in v["captions"]["levels"]


def test_the_levels_view_keeps_finished_levels_and_greys_future_ones():
    config, knobs = tiny(ema_decay=0.0)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 3)                                   # step 3: 8 px fading in (alpha 0.5)
    kept = run.family.level_images["0"]
    levels = run.family.render()["levels"]
    tile = lambda r, k: levels[13 + 2 + r * 34:13 + 2 + r * 34 + 32, 2 + k * 34:2 + k * 34 + 32, 0]  # noqa: E731
    up = torch.nn.functional.interpolate(kept, size=32, mode="nearest").clamp(-1, 1)
    np.testing.assert_allclose(tile(0, 0) / 127.5 - 1, up[0, 0].numpy(), atol=0.01)
    assert (tile(0, 2) == 128).all() and (tile(5, 3) == 128).all()                # not grown yet: grey
    steps(run, 5)
    assert torch.equal(run.family.level_images["0"], kept)                         # kept, not redrawn


def test_two_runs_with_one_seed_give_the_same_scalars():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    assert np.array_equal(scalars(steps(a, 13)), scalars(steps(b, 13)))
    c = GANRun(config=config.with_changes(seed=1), knobs=knobs)
    assert not np.array_equal(scalars(steps(c, 4))[:, 0], scalars(steps(GANRun(config=config, knobs=knobs), 4))[:, 0])


def test_rewind_across_fades_is_bit_identical():
    config, knobs = tiny(ema_decay=0.99)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 3)                                   # mid-fade into 8 px
    run.render_visuals()                            # a restore point at step 3
    images = dict(run.family.level_images)
    straight = steps(run, 9)                        # through the 16 and 32 px fades
    after = dict(run.family.level_images)
    ema = [p.clone() for p in run.sampler().parameters()]
    assert set(after) == {"0", "1", "2"} and set(images) == {"0"}
    assert run.rewind(3) == 3
    assert same_images(run.family.level_images, images) and run.sampler().growth() == (1, 0.5)
    again = steps(run, 9)
    assert np.array_equal(scalars(straight), scalars(again))
    assert same_images(run.family.level_images, after)
    assert all(torch.equal(x, y) for x, y in zip(ema, run.sampler().parameters()))
    assert [e.step for e in run.events if e.kind == "grow"] == [2, 4, 6, 8, 10]    # no marker twice


def test_rollback_restores_the_stage_and_the_kept_levels():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 5)
    run.remember_good()
    steps(run, 4)
    assert run.rollback() == 5
    assert set(run.family.level_images) == {"0"} and run.nets["G"].growth() == (1, 1.0)


def test_checkpoint_round_trip_continues_exactly_and_bad_extra_state_is_refused():
    config, knobs = tiny(ema_decay=0.99)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 7)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "progan" and ckpt["_config"].phase_steps == P
    assert set(ckpt["state"]["extra"]["level_images"]) == {"0", "1"}
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert same_images(a.family.level_images, b.family.level_images) and b.nets["D"].growth() == (2, 0.5)
    assert np.array_equal(scalars(steps(a, 5)), scalars(steps(b, 5)))
    import io
    for bad in ({"3": torch.zeros(8, 1, 32, 32)}, {"0": torch.zeros(8, 1, 8, 8)}, {"1": torch.full((8, 1, 8, 8), np.nan)}):
        c = build_checkpoint(a)
        c["state"]["extra"] = {"level_images": bad}
        buf = io.BytesIO()
        torch.save(c, buf)
        with pytest.raises(CheckpointError, match="extra state does not fit"):
            read_checkpoint(buf.getvalue())


def test_quality_job_reports_fd_at_32_px_and_swd_per_level():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    q = run.family.quality_job(200)()
    assert q["kind"] == "progan" and q["resolution"] == 4 and q["alpha"] == 1.0
    assert {"fd", "fd_floor", "classes", "class_histogram", "swd_32", "swd_16", "swd", "swd_floor"} <= set(q)
    assert q["fd"] > q["fd_floor"] and q["swd"] > 3 * q["swd_floor"]


# ---- metrics and data ---------------------------------------------------------------------------------------------
def test_laplacian_pyramid_reconstructs_and_swd_orders_sets():
    from ganengine.metrics.swd import laplacian_pyramid, pyr_up, swd
    from ganengine.data.faces import build_progressive_source
    x = torch.rand(3, 1, 32, 32)
    band, low = laplacian_pyramid(x, 2)
    assert band.shape == (3, 1, 32, 32) and low.shape == (3, 1, 16, 16)
    assert torch.allclose(pyr_up(low) + band, x, atol=1e-5)
    src = build_progressive_source(get_preset("progan-digits").build()[0], "cpu")
    real = src.real_sample(600, seed=0)[0]
    same, noise = swd(real[:300], real[300:]), swd(real[:300], torch.rand(300, 1, 32, 32) * 2 - 1)
    blurred = swd(real[:300], torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(real[300:], 4), scale_factor=4))
    assert same["swd"] < blurred["swd"] < noise["swd"] and set(same) == {"swd_32", "swd_16", "swd"}
    assert swd(real[:300], real[300:], seed=1) == swd(real[:300], real[300:], seed=1)


def test_faces_use_celeba_when_on_disk_else_the_procedural_set(tmp_path):
    from ganengine.data.faces import build_progressive_source, procedural_faces
    f = procedural_faces(20, seed=5)
    assert f.shape == (20, 3, 32, 32) and f.dtype == torch.uint8 and torch.equal(f, procedural_faces(20, seed=5))
    assert f.float().std() > 30                                                  # not blank: skin, hair, background
    config = get_preset("progan-faces").build(data_root=str(tmp_path), download=False)[0]
    src = build_progressive_source(config, "cpu")
    assert "Procedural faces" in src.spec.title and src.spec.shape == (3, 32, 32)
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    from PIL import Image
    for i in range(3):
        Image.fromarray(np.full((218, 178, 3), 40 * i, np.uint8)).save(folder / f"{i:06d}.jpg")
    src = build_progressive_source(config, "cpu")
    assert src.spec.title.startswith("CelebA") and src.sample(4)[0].shape == (4, 3, 32, 32)


# ---- the command line -----------------------------------------------------------------------------------------
def test_cli_train_sample_before_and_at_32_px_eval_and_refusals(tmp_path, capsys):
    out = tmp_path / "pg"
    assert main(["train", "--preset", "progan-digits", "--steps", "5", *TINY, "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "progressive G and D" in printed
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["grow/resolution"] == 8 and row["grow/alpha"] == 1
    ckpt = str(out / "checkpoint.pt")
    assert main(["sample", ckpt, "--n", "6", "--out", str(tmp_path / "s.npy")]) == 0
    assert "has not reached 32 px yet (it is at 8 px" in capsys.readouterr().err
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (6, 1, 32, 32) and x.min() >= -1 and x.max() <= 1
    assert np.array_equal(x[:, :, ::4, ::4].repeat(4, 2).repeat(4, 3), x)          # 8 px scaled up: 4x4 blocks
    assert main(["train", "--resume", ckpt, "--steps", "8", "--quiet", "--threads", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sample", ckpt, "--n", "6", "--out", str(tmp_path / "t.npy")]) == 0
    assert capsys.readouterr().err == "" and np.load(tmp_path / "t.npy").shape == (6, 1, 32, 32)
    assert main(["eval", ckpt, "--n", "200"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "progan" and report["resolution"] == 32 and {"fd", "swd_32", "swd_16"} <= set(report)
    assert main(["translate", ckpt, "--split", "test", "--out", str(tmp_path / "x.npz")]) == 2
    assert "cannot translate" in capsys.readouterr().err
    assert main(["train", "--preset", "progan-digits", "--steps", "1", "--image-size", "28", "--out",
                 str(tmp_path / "y")]) == 2
    assert "grows to 32 px" in capsys.readouterr().err


def test_train_resume_continues_exactly_across_a_fade(tmp_path):
    common = ["--preset", "progan-digits", *TINY, "--seed", "2", "--quiet"]
    assert main(["train", *common, "--steps", "10", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *common, "--steps", "5", "--out", str(tmp_path / "split")]) == 0   # mid-fade to 16 px
    assert main(["train", "--resume", str(tmp_path / "split" / "checkpoint.pt"), "--steps", "5", "--quiet",
                 "--threads", "1", "--out", str(tmp_path / "split")]) == 0

    def rows(path):
        return [json.loads(line) for line in path.read_text().splitlines()]
    straight, split = rows(tmp_path / "straight" / "metrics.jsonl"), rows(tmp_path / "split" / "metrics.jsonl")
    assert [r["step"] for r in split] == list(range(1, 11))
    keys = ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "grad/G", "grad/D", "grow/resolution", "grow/alpha")
    assert [[r[k] for k in keys] for r in straight] == [[r[k] for k in keys] for r in split]


def test_figures_draw_the_growth_on_the_curves_and_the_progan_quality():
    from playground import figures
    steps_ = np.arange(1, 13, dtype=float)
    res = np.array([4, 4, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32], float)
    alpha = np.array([1, 1, 0, 0.5, 1, 1, 0, 0.5, 1, 1, 0, 0.5])
    m = {"step": steps_, "loss/D": np.ones(12), "loss/G": np.ones(12), "grow/resolution": res, "grow/alpha": alpha}
    fig = figures.loss_figure(m, ())
    trace = [t for t in fig["data"] if t.get("yaxis") == "y3"][0]
    assert trace["y"][:4] == [4, 4, 4, pytest.approx(5.657, rel=1e-3)] and trace["y"][-1] == pytest.approx(22.63, rel=1e-3)
    q = [{"step": 10, "resolution": 16, "alpha": 1.0, "fd": 300.0, "fd_floor": 3.0, "swd_32": 80.0, "swd_16": 50.0,
          "swd_floor": 14.0}]
    fig = figures.quality_figure(q, "progan")
    assert [t["name"] for t in fig["data"]][0] == "FD (classifier features)" and len(fig["layout"]["shapes"]) == 2


def test_the_papers_wgan_gp_with_drift_trains_too():
    config, knobs = tiny(loss="wgan-gp", drift=0.5)
    run = GANRun(config=config, knobs=knobs)
    rows = steps(run, 3)
    assert run.non_finite(rows) is None and run.knobs.gp_weight == 10.0
    off = GANRun(config=config, knobs=knobs.with_changes(drift=0.0))
    c = run.history.index["loss/D"]
    assert rows[0, c] > steps(off, 1)[0, c]             # the same first batch: + 0.5 E D(x)^2 > 0
