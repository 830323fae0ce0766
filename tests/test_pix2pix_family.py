"""The pix2pix family on the seam (issue 11): smoke, exact replay, rewind with EMA, its live knob, the CLI verbs."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.config import ConfigError
from ganengine.presets import get_preset
from ganengine.run import GANRun


def tiny(**knobs):
    """The edges2digits preset at width 8 and batch 4 (fast), on the CPU."""
    return get_preset("edges2digits").build(width=8, batch_size=4, device="cpu", sample_every=5, log_every=5,
                                            **knobs)


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def test_smoke_every_phase_and_the_view():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert run.knobs.get("lambda_l1") == 100.0 and run.family.phases == ("both", "d", "g")
    rows = np.concatenate([steps(run, 2), steps(run, 1, "d"), steps(run, 1, "g")])
    cols = run.history.index
    assert np.isfinite(rows[:2, [cols[c] for c in ("loss/D", "loss/G", "loss/G/L1", "loss/G/GAN", "D(x)")]]).all()
    assert np.isnan(rows[2, cols["loss/G"]]) and np.isnan(rows[3, cols["loss/D"]])
    total = rows[:2, cols["loss/G/GAN"]] + 100 * rows[:2, cols["loss/G/L1"]]
    np.testing.assert_allclose(rows[:2, cols["loss/G"]], total, rtol=1e-5)
    assert run.non_finite(rows) is None
    v = run.render_visuals()
    assert v["views"] == ("strips",) and v["frame"] is v["strips"]
    assert v["strips"].dtype == np.uint8 and v["strips"].shape == (3 * 32 + 4 * 2, 20 * 32 + 21 * 2, 3)
    assert len(v["d_hist"]["real"]) > 4  # patch outputs of the last D updates


def test_two_runs_with_one_seed_give_the_same_scalars():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    ra, rb = steps(a, 4), steps(b, 4)
    assert np.array_equal(ra[:, 2:-3], rb[:, 2:-3])


def test_rewind_resumes_bit_identically_with_ema():
    config, knobs = tiny(ema_decay=0.999)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 3)
    run.render_visuals()
    straight = steps(run, 4)
    ema = [p.clone() for p in run.sampler().parameters()]
    run.rewind(3)
    again = steps(run, 4)
    assert np.array_equal(straight[:, 2:-3], again[:, 2:-3])
    assert all(torch.equal(x, y) for x, y in zip(ema, run.sampler().parameters()))


def test_checkpoint_round_trip_continues_exactly():
    config, knobs = tiny(ema_decay=0.99)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 2)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "pix2pix" and ckpt["_knobs"].get("lambda_l1") == 100.0
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert np.array_equal(steps(a, 3)[:, 2:-3], steps(b, 3)[:, 2:-3])


def test_lambda_l1_is_a_live_knob_of_pix2pix_only(tiny_points):
    from ganengine.trainer import Trainer
    config, knobs = tiny()
    t = Trainer(config=config, knobs=knobs, threads=1)
    t.set_knobs(lambda_l1=10.0)
    with t.with_run() as run:
        assert run.knobs.get("lambda_l1") == 10.0
        assert any(e.kind == "lambda_l1" for e in run.events)
    with pytest.raises(ConfigError, match="L1 weight"):
        t.set_knobs(lambda_l1=-1)
    t.close()
    g = Trainer(config=tiny_points[0], knobs=tiny_points[1], threads=1)
    with pytest.raises(ConfigError, match="not a live setting"):
        g.set_knobs(lambda_l1=10.0)
    g.close()


def test_quality_job_measures_the_held_out_pairs():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    q = run.family.quality_job(100)()
    assert q["kind"] == "translation" and q["n"] == 500
    assert {"l1", "psnr", "ssim", "accuracy"} <= set(q) and 0 <= q["accuracy"] <= 1


def test_cli_train_translate_eval_and_refusals(tmp_path, capsys):
    out = tmp_path / "p2p"
    assert main(["train", "--preset", "edges2digits", "--steps", "3", "--width", "8", "--batch-size", "4",
                 "--seed", "3", "--threads", "1", "--out", str(out)]) == 0
    assert "Loss_G/L1" in capsys.readouterr().out
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert {"loss/D", "loss/G", "loss/G/L1", "D(x)"} <= set(row)
    ckpt = str(out / "checkpoint.pt")
    assert main(["translate", ckpt, "--split", "test", "--n", "30", "--seed", "1", "--out", str(tmp_path / "t.npz")]) == 0
    t = np.load(tmp_path / "t.npz")
    assert t["input"].shape == t["output"].shape == t["target"].shape == (30, 1, 32, 32)
    assert all(t[k].dtype == np.float32 and t[k].min() >= -1 and t[k].max() <= 1 for k in ("input", "output", "target"))
    assert t["label"].dtype == np.int64 and t["label"].shape == (30,)
    from PIL import Image
    sketch = np.full((64, 64), 255, np.uint8)
    sketch[16:48, 30:34] = 0  # a dark stroke on white paper
    Image.fromarray(sketch).save(tmp_path / "sketch.png")
    assert main(["translate", ckpt, "--input", str(tmp_path / "sketch.png"), "--out", str(tmp_path / "d.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "d.png")).shape[:2] == (32, 32)
    capsys.readouterr()
    assert main(["eval", ckpt]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "pix2pix" and {"l1", "psnr", "ssim", "accuracy"} <= set(report)
    assert main(["sample", ckpt, "--out", str(tmp_path / "s.npy")]) == 2
    assert "cannot sample" in capsys.readouterr().err
    assert main(["train", "--data", "ring8", "--steps", "2", "--out", str(tmp_path / "g"), "--quiet"]) == 0
    assert main(["translate", str(tmp_path / "g" / "checkpoint.pt"), "--split", "test", "--out",
                 str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert "cannot translate" in err and len(err.strip().splitlines()) == 1


def _saved(ckpt) -> bytes:
    import io
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    return buf.getvalue()


def test_hostile_pix2pix_checkpoints_are_refused():
    from ganengine.checkpoint import CheckpointError, build_checkpoint
    config, knobs = tiny()
    ckpt = build_checkpoint(GANRun(config=config, knobs=knobs))
    key, w = next((k, v) for k, v in ckpt["state"]["nets"]["D"].items() if v.ndim == 4)
    ckpt["state"]["nets"]["D"] = dict(ckpt["state"]["nets"]["D"], **{key: torch.zeros(1).expand(*w.shape)})
    with pytest.raises(CheckpointError, match="expanded or strided view"):
        read_checkpoint(_saved(ckpt))
    huge = build_checkpoint(GANRun(config=config, knobs=knobs))
    huge["config"] = dict(huge["config"], width=2048)  # a U-Net of billions of parameters
    huge["state"] = {"nets": {"G": {}, "D": {}}}
    with pytest.raises(CheckpointError, match="parameters; the limit is 50,000,000"):
        read_checkpoint(_saved(huge))
