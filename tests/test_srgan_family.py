"""The SRGAN family (issue 13): data, nets, smoke, the warm-up -> adversarial switch, exact replay across it
(rewind, checkpoint resume), its live knobs, metrics against bicubic, translate(x) for the Translate tab, CLI verbs."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.config import ConfigError
from ganengine.presets import get_preset
from ganengine.run import GANRun


def tiny(**over):
    """The sr-digits preset at width 8, 1 residual block and batch 4 (fast), on the CPU; the warm-up ends after 2
    steps so a few steps cross into the adversarial phase."""
    over = {"width": 8, "depth": 1, "batch_size": 4, "device": "cpu", "sample_every": 5, "log_every": 5,
            "mse_warmup_steps": 2, **over}
    return get_preset("sr-digits").build(**over)


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def test_low_res_digits_are_area_means_of_the_held_out_split():
    from ganengine.data.lowres import LowResDigitSource, load_lowres_digits
    from ganengine.data.paired import load_paired_digits
    data = load_lowres_digits("lowres7")
    assert data["input"].shape == (5000, 1, 7, 7) and data["target"].shape == (5000, 1, 28, 28)
    block = data["target"][0, 0, 8:12, 12:16].float().mean()                # LR pixel (2, 3)
    assert data["input"][0, 0, 2, 3] == int(torch.round(block))
    assert torch.equal(data["test"], load_paired_digits("edges2digits")["test"])   # pix2pix's held-out 500
    src = LowResDigitSource("lowres14", seed=1)
    lr, hr, label = src.sample(6)
    assert lr.shape == (6, 1, 14, 14) and hr.shape == (6, 1, 28, 28) and label.shape == (6,)
    assert src.spec.extra["input_shape"] == (1, 14, 14) and src.spec.shape == (1, 28, 28)
    with pytest.raises(ConfigError, match="low-resolution task"):
        load_lowres_digits("lowres3")


def test_generator_upscales_with_pixel_shuffle_and_d_scores_each_image():
    from ganengine.models.srresnet import SRDiscriminator, SRResNetGenerator
    for r, side in ((4, 7), (2, 14)):
        G = SRResNetGenerator(factor=r, width=8, blocks=2)
        assert G(torch.zeros(3, 1, side, side)).shape == (3, 1, 28, 28)
        assert sum(isinstance(m, torch.nn.PixelShuffle) for m in G.modules()) == r.bit_length() - 1
    assert SRDiscriminator(width=8)(torch.zeros(3, 1, 28, 28)).shape == (3,)
    with pytest.raises(ConfigError, match="power of two"):
        SRResNetGenerator(factor=3)


def test_smoke_warm_up_then_adversarial_and_the_view():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert run.knobs.get("adv_weight") == 1e-3 and run.family.phases == ("both", "d", "g")
    rows = np.concatenate([steps(run, 4), steps(run, 1, "d"), steps(run, 1, "g")])
    cols = run.history.index
    # steps 1-2: the SRResNet warm-up (MSE only, D idle); steps 3-4: D then G on content + 1e-3 x adversarial
    assert np.isnan(rows[:2, cols["loss/D"]]).all() and np.isnan(rows[:2, cols["loss/G/GAN"]]).all()
    np.testing.assert_allclose(rows[:2, cols["loss/G"]], rows[:2, cols["loss/G/content"]], rtol=1e-6)
    assert np.isfinite(rows[2:4, [cols[c] for c in ("loss/D", "loss/G/GAN", "D(x)", "D(G(z))/after")]]).all()
    total = rows[2:4, cols["loss/G/content"]] + 1e-3 * rows[2:4, cols["loss/G/GAN"]]
    np.testing.assert_allclose(rows[2:4, cols["loss/G"]], total, rtol=1e-5)
    assert np.isnan(rows[4, cols["loss/G"]]) and np.isnan(rows[5, cols["loss/D"]])
    assert run.non_finite(rows) is None
    assert [e.step for e in run.events if e.kind == "phase"] == [2]          # the switch is marked once
    v = run.render_visuals()
    assert v["views"] == ("strips",) and v["frame"] is v["strips"]
    assert v["strips"].dtype == np.uint8 and v["strips"].shape == (4 * 28 + 5 * 2, 20 * 28 + 21 * 2, 3)
    caption = v["captions"]["strips"]
    assert "bicubic PSNR" in caption and "SRGAN PSNR" in caption and "Adversarial phase since step 2" in caption


def test_two_runs_with_one_seed_give_the_same_scalars():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    assert np.array_equal(steps(a, 4)[:, 2:-3], steps(b, 4)[:, 2:-3], equal_nan=True)


def test_rewind_across_the_switch_replays_bit_identically_with_ema():
    config, knobs = tiny(ema_decay=0.999, mse_warmup_steps=3)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    run.render_visuals()                                                     # a restore point in the warm-up
    straight = steps(run, 5)                                                 # steps 2-6 cross the switch at 3
    weights = [p.clone() for p in run.sampler().parameters()] + [p.clone() for p in run.nets["D"].parameters()]
    assert run.rewind(1) == 1
    again = steps(run, 5)
    assert np.array_equal(straight[:, 2:-3], again[:, 2:-3], equal_nan=True)
    after = list(run.sampler().parameters()) + list(run.nets["D"].parameters())
    assert all(torch.equal(x, y) for x, y in zip(weights, after))
    assert [e.step for e in run.events if e.kind == "phase"] == [3]         # not marked twice


def test_checkpoint_resume_in_the_warm_up_continues_exactly():
    config, knobs = tiny(ema_decay=0.99, mse_warmup_steps=3)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 2)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "srgan" and ckpt["_knobs"].get("mse_warmup_steps") == 3
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert np.array_equal(steps(a, 4)[:, 2:-3], steps(b, 4)[:, 2:-3], equal_nan=True)


def test_knobs_are_live_and_of_srgan_only(tiny_points):
    from ganengine.trainer import Trainer
    config, knobs = tiny()
    t = Trainer(config=config, knobs=knobs, threads=1)
    t.set_knobs(adv_weight=0.05, mse_warmup_steps=100)
    with t.with_run() as run:
        assert run.knobs.get("adv_weight") == 0.05 and not run.family.adversarial_phase()
        assert any(e.kind == "adv_weight" for e in run.events)
    with pytest.raises(ConfigError, match="adversarial weight"):
        t.set_knobs(adv_weight=2)
    t.close()
    g = Trainer(config=tiny_points[0], knobs=tiny_points[1], threads=1)
    with pytest.raises(ConfigError, match="not a live setting"):
        g.set_knobs(adv_weight=0.1)
    g.close()


def test_quality_job_reports_sr_and_bicubic_on_the_held_out_digits():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    q = run.family.quality_job(100)()
    assert q["kind"] == "superres" and q["n"] == 500
    assert {"psnr", "ssim", "accuracy", "sharpness", "class_accuracy"} <= set(q)
    # bicubic x4 of the 7x7 digits, measured: PSNR 14.6 dB, SSIM 0.41, 86% read correctly, 69% of the edge strength
    assert q["bicubic_psnr"] == pytest.approx(14.64, abs=0.05) and q["bicubic_ssim"] == pytest.approx(0.413, abs=0.005)
    assert q["bicubic_accuracy"] == pytest.approx(0.864, abs=0.01) and 0.6 < q["bicubic_sharpness"] < 0.8


def test_translate_takes_the_low_res_size_only():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    fam = run.family
    assert fam.input_shape() == (1, 7, 7)
    out = fam.translate(torch.zeros(2, 1, 7, 7))
    assert out.shape == (2, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    with pytest.raises(ConfigError, match="upscales 7x7 grey images"):
        fam.translate(torch.zeros(1, 1, 28, 28))


def test_cli_train_translate_eval_and_refusals(tmp_path, capsys):
    out = tmp_path / "sr"
    assert main(["train", "--preset", "sr-digits", "--steps", "3", "--width", "8", "--depth", "1", "--batch-size",
                 "4", "--knob", "mse_warmup_steps=1", "--seed", "3", "--threads", "1", "--out", str(out)]) == 0
    assert "Loss_G/content" in capsys.readouterr().out
    ckpt = str(out / "checkpoint.pt")
    assert main(["translate", ckpt, "--split", "test", "--n", "30", "--seed", "1",
                 "--out", str(tmp_path / "t.npz")]) == 0
    t = np.load(tmp_path / "t.npz")
    assert t["input"].shape == (30, 1, 7, 7) and t["output"].shape == t["target"].shape == (30, 1, 28, 28)
    assert all(t[k].dtype == np.float32 and t[k].min() >= -1 and t[k].max() <= 1 for k in ("input", "output", "target"))
    assert t["label"].dtype == np.int64 and t["label"].shape == (30,)
    from PIL import Image
    small = np.full((7, 7), 255, np.uint8)
    small[1:6, 3] = 0                                                        # a dark stroke on white paper
    Image.fromarray(small).save(tmp_path / "small.png")
    assert main(["translate", ckpt, "--input", str(tmp_path / "small.png"), "--out", str(tmp_path / "big.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "big.png")).shape[:2] == (28, 28)
    capsys.readouterr()
    assert main(["eval", ckpt]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "srgan" and {"psnr", "ssim", "accuracy", "bicubic_accuracy"} <= set(report)
    assert main(["translate", ckpt, "--split", "test", "--direction", "ba", "--out", str(tmp_path / "x.npz")]) == 2
    assert "one way" in capsys.readouterr().err
    assert main(["sample", ckpt, "--out", str(tmp_path / "s.npy")]) == 2
    assert "cannot sample" in capsys.readouterr().err


def test_quality_figure_draws_srgan_against_bicubic():
    from playground.figures import quality_figure
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    q = dict(run.family.quality_job(100)(), step=1)
    fig = quality_figure([q, dict(q, step=2)], "superres")
    names = [t["name"] for t in fig["data"]]
    assert names == ["SRGAN read as its digit (%)", "bicubic read as its digit (%)", "SRGAN edge strength (% of real)",
                     "SRGAN PSNR (dB)", "bicubic PSNR (dB)"]
    assert fig["data"][1]["y"] == [pytest.approx(100 * q["bicubic_accuracy"])] * 2
