"""The styles family (issue 12, artistic style transfer): smoke, exact replay, rewind with EMA, checkpoints and
`train --resume`, the styled data (disjoint styles, held-out digits never trained on), the conditional G, the metrics
and the CLI verbs."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.presets import get_preset
from ganengine.run import GANRun

TINY = ["--width", "4", "--depth", "1", "--batch-size", "4", "--threads", "1"]


def tiny(**overrides):
    """The digit-styles preset at width 4, 1 residual block, batch 4 (fast), on the CPU."""
    return get_preset("digit-styles").build(width=4, depth=1, batch_size=4, device="cpu", sample_every=5,
                                            log_every=5, **overrides)


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def scalars(rows):
    return rows[:, 2:-3]  # the family's named scalars (not step, time, speed or lrs)


def test_smoke_every_phase_both_views_and_the_objective():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert run.family.phases == ("both", "d", "g") and set(run.nets) == {"G", "D"}
    assert run.knobs.get("lambda_cls") == 1.0 and run.knobs.get("lambda_rec") == 10.0
    assert run.knobs.get("lambda_id") == 5.0                                  # the preset's identity weight
    rows = np.concatenate([steps(run, 2), steps(run, 1, "d"), steps(run, 1, "g")])
    c = run.history.index
    assert np.isfinite(rows[:2, [c[n] for n in run.family.scalars]]).all()
    assert np.isnan(rows[2, c["loss/G"]]) and np.isfinite(rows[2, c["loss/D/style"]])
    assert np.isnan(rows[3, c["loss/D"]]) and np.isfinite(rows[3, c["loss/G/rec"]])
    g = rows[[0, 1, 3]]
    total = g[:, c["loss/G/GAN"]] + g[:, c["loss/G/style"]] + 10 * g[:, c["loss/G/rec"]] + 5 * g[:, c["loss/G/id"]]
    assert np.all(g[:, c["loss/G/id"]] > 0)
    np.testing.assert_allclose(rows[[0, 1, 3], c["loss/G"]], total, rtol=1e-5)
    assert np.all(rows[:3, c["loss/D"]] > rows[:3, c["loss/D/style"]])      # L_D = adversarial + 1 x style CE
    assert run.non_finite(rows) is None and run.updates == {"G": 3, "D": 3}
    v = run.render_visuals()
    assert v["views"] == ("styles", "interpolate") and v["frame"] is v["styles"]
    assert v["styles"].shape == (10 * 34 + 2, 6 * 34 + 2, 3) and v["interpolate"].shape == (5 * 34 + 2, 8 * 34 + 2, 3)
    assert all(v["captions"][view] for view in v["views"])


def test_the_code_reaches_g_and_mixed_codes_interpolate():
    from ganengine.models.resnet import ResnetGenerator
    from ganengine.models.stargan import StyleGenerator
    torch.manual_seed(0)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    eye = torch.eye(5)
    # StarGAN's broadcast code channels vanish behind a reflection pad and an instance norm: why G uses a CIN
    plain = ResnetGenerator(in_channels=6, out_channels=1, width=4, blocks=1)
    a, b = (plain(torch.cat([x, eye[k][None, :, None, None].expand(2, 5, 32, 32)], 1)) for k in (1, 3))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    G = StyleGenerator(n_styles=5, width=4, blocks=1)
    for p in G.parameters():
        p.data.normal_(0, 0.3)
    y1, y3 = G(x, eye[[1, 1]]), G(x, eye[[3, 3]])
    assert (y1 - y3).abs().mean() > 1e-3
    # a mixed code is a mix of the per-style scales and shifts: the first CIN's output is linear in the code
    cin = G.body[0].cin
    h = torch.randn(2, 4, 8, 8)
    mix = 0.25 * eye[[1, 1]] + 0.75 * eye[[3, 3]]
    torch.testing.assert_close(cin(h, mix), 0.25 * cin(h, eye[[1, 1]]) + 0.75 * cin(h, eye[[3, 3]]))


def test_two_runs_with_one_seed_give_the_same_scalars():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    assert np.array_equal(scalars(steps(a, 6)), scalars(steps(b, 6)))
    c = GANRun(config=config.with_changes(seed=1), knobs=knobs)
    assert not np.array_equal(scalars(steps(c, 6))[:, 0], scalars(steps(GANRun(config=config, knobs=knobs), 6))[:, 0])


def test_rewind_is_bit_identical_with_ema_on():
    config, knobs = tiny(ema_decay=0.999)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 4)
    run.render_visuals()                                        # a restore point at step 4
    straight = steps(run, 5)
    ema = [p.clone() for p in run.sampler().parameters()]
    assert run.rewind(4) == 4
    again = steps(run, 5)
    assert np.array_equal(scalars(straight), scalars(again))
    assert all(torch.equal(x, y) for x, y in zip(ema, run.sampler().parameters()))


def test_checkpoint_round_trip_continues_exactly():
    config, knobs = tiny(ema_decay=0.99)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 5)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "styles" and set(ckpt["state"]["ema"]) == {"G"}
    assert ckpt["_knobs"].get("lambda_rec") == 10.0
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert np.array_equal(scalars(steps(a, 4)), scalars(steps(b, 4)))


def test_styles_are_disjoint_in_training_and_the_held_out_digits_never_trained_on():
    from ganengine.data.images import load_bundled_mnist
    from ganengine.data.paired import pad_digits
    from ganengine.data.styles import STYLES, StyleDigitSource, load_digit_styles, render
    data = load_digit_styles()
    idx, style, test = data["train_index"], data["train_style"], set(data["test_index"].tolist())
    assert len(idx) == 4500 and len(set(idx.tolist())) == 4500      # each training digit in exactly one style
    assert not set(idx.tolist()) & test and len(test) == 500
    assert all(int((style == k).sum()) == 900 for k in range(len(STYLES)))
    assert all(int(((style == k) & (data["train_label"] == c)).sum()) == 90 for k in range(5) for c in range(10))
    images, _ = load_bundled_mnist()
    k = 3                                                          # a training image is its digit in its style
    assert torch.equal(data["train_images"][style == k][:7], render(STYLES[k], pad_digits(images[idx[style == k][:7]]),
                                                                    idx[style == k][:7]))
    src = StyleDigitSource(seed=0)
    held = {bytes(x.numpy()) for x in data["test_images"].flatten(0, 1)}
    seen = set()
    for _ in range(1200):                                          # > one epoch of the 4,500 at batch 4
        x, s = src.sample(4)
        seen |= {bytes(((img + 1) * 127.5).round().to(torch.uint8).numpy()) for img in x}
    assert len(seen) > 4000 and not held & seen
    renderings, label = src.held_out()
    assert renderings.shape == (500, 5, 1, 32, 32) and label.shape == (500,)
    assert torch.equal(renderings[:, 0], pad_digits(images[data["test_index"]]).float() / 127.5 - 1)
    state = src.get_state()
    first = src.sample(50)
    src.set_state(state)
    assert all(torch.equal(p, q) for p, q in zip(first, src.sample(50)))


def test_metrics_ceilings_and_a_copying_generator():
    from ganengine.data.styles import STYLES, StyleDigitSource
    from ganengine.metrics.styles import style_report

    class Copy(torch.nn.Module):                                   # G(x, c) = x: keeps content, no style at all
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x, c):
            return x + self.w

    renderings, label = StyleDigitSource(seed=0).held_out()
    r = style_report(Copy(), renderings, label, STYLES)
    assert r["kind"] == "styles" and r["n"] == 500 and r["styles"] == list(STYLES)
    assert r["content"] > 0.95 and r["change"] == 0 and r["diversity"] == 0   # the copy keeps every digit ...
    assert r["style_match"] < 0.3                                  # ... and matches only the plain style
    assert r["per_style"]["plain"]["l1"] == 0 and r["per_style"]["plain"]["style"] > 0.9
    assert 0.85 < r["content_real"] < 0.97 and r["style_match_real"] > 0.9 and r["diversity_real"] > 0.1
    assert all(v["content_real"] > 0.85 and v["style_real"] > 0.9 for v in r["per_style"].values())


def test_cli_train_translate_eval_resume_and_refusals(tmp_path, capsys):
    common = ["--preset", "digit-styles", *TINY, "--seed", "2", "--quiet"]
    assert main(["train", *common, "--steps", "6", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *common, "--steps", "3", "--out", str(tmp_path / "split")]) == 0
    ckpt = str(tmp_path / "split" / "checkpoint.pt")
    assert main(["translate", ckpt, "--split", "test", "--n", "20", "--seed", "1", "--style", "hatched",
                 "--out", str(tmp_path / "t.npz")]) == 0
    t = np.load(tmp_path / "t.npz")
    assert t["input"].shape == t["output"].shape == t["target"].shape == (20, 1, 32, 32)
    assert all(t[k].dtype == np.float32 and -1 <= t[k].min() and t[k].max() <= 1 for k in ("input", "output", "target"))
    assert t["label"].dtype == np.int64 and not np.array_equal(t["input"], t["target"])
    from PIL import Image
    sketch = np.full((64, 64), 255, np.uint8)
    sketch[16:48, 30:34] = 0
    Image.fromarray(sketch).save(tmp_path / "sketch.png")
    assert main(["translate", ckpt, "--input", str(tmp_path / "sketch.png"), "--style", "brush",
                 "--out", str(tmp_path / "y.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "y.png")).shape[:2] == (32, 32)
    capsys.readouterr()
    assert main(["eval", ckpt]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "styles" and report["kind"] == "styles" and set(report["per_style"]) == set(report["styles"])
    for bad, why in ((["--style", "cubist"], "--style must be one of"), ([], "--style must be one of"),
                     (["--style", "pixel", "--direction", "ab"], "use --style, not --direction")):
        assert main(["translate", ckpt, "--split", "test", *bad, "--out", str(tmp_path / "x.npz")]) == 2
        err = capsys.readouterr().err
        assert why in err and len(err.strip().splitlines()) == 1
    assert main(["sample", ckpt, "--out", str(tmp_path / "s.npy")]) == 2
    assert main(["train", "--resume", ckpt, "--steps", "3", "--quiet", "--threads", "1",
                 "--out", str(tmp_path / "split")]) == 0

    def rows(path):
        return [json.loads(line) for line in path.read_text().splitlines()]
    straight, split = rows(tmp_path / "straight" / "metrics.jsonl"), rows(tmp_path / "split" / "metrics.jsonl")
    assert [r["step"] for r in split] == list(range(1, 7))
    keys = ("loss/D", "loss/G", "loss/G/style", "loss/G/rec", "loss/D/style", "D(x)", "grad/G", "grad/D")
    assert [[r[k] for k in keys] for r in straight] == [[r[k] for k in keys] for r in split]


def test_other_families_refuse_a_style(tmp_path, capsys):
    out = tmp_path / "p2p"
    assert main(["train", "--preset", "edges2digits", "--steps", "1", "--width", "8", "--batch-size", "4",
                 "--threads", "1", "--quiet", "--out", str(out)]) == 0
    assert main(["translate", str(out / "checkpoint.pt"), "--split", "test", "--n", "3", "--style", "hatched",
                 "--out", str(tmp_path / "t.npz")]) == 2
    assert "no styles" in capsys.readouterr().err


def test_lambdas_are_live_knobs():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    events = run.apply_knobs(run.knobs.with_changes(lambda_rec=0.0, lambda_cls=2.0, lambda_id=0.0))
    assert {e.kind for e in events} == {"lambda_rec", "lambda_cls", "lambda_id"}
    rows = steps(run, 2)
    c = run.history.index
    assert np.all(rows[:, c["loss/G/id"]] == 0)                               # lambda_id 0: StarGAN's objective
    np.testing.assert_allclose(rows[:, c["loss/G"]], rows[:, c["loss/G/GAN"]] + 2 * rows[:, c["loss/G/style"]],
                               rtol=1e-5)
    assert np.all(rows[:, c["loss/G/rec"]] > 0)
    with pytest.raises(Exception, match="reconstruction weight"):
        run.knobs.with_changes(lambda_rec=-1)
