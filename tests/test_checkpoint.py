"""Checkpoints: round trip, exact continuation, and refusal of anything unsafe or mismatched."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ganengine.checkpoint import (CheckpointError, build_checkpoint, checkpoint_bytes, generator_from_checkpoint,
                                  read_checkpoint, restore_run, save_checkpoint)
from ganengine.run import GANRun


def train(run, n):
    for _ in range(n):
        run.train_iteration()
    return run.gather(0.1)


@pytest.mark.parametrize("which", ["tiny_points", "tiny_digits"])
def test_round_trip_continues_exactly(which, request, tmp_path):
    config, knobs = request.getfixturevalue(which)
    knobs = knobs.with_changes(ema_decay=0.9)
    a = GANRun(config=config, knobs=knobs)
    train(a, 7)
    path = save_checkpoint(a, tmp_path / "ck.pt")
    rows_a = train(a, 6)

    ckpt = read_checkpoint(path)
    assert ckpt["_config"] == config and ckpt["_knobs"] == knobs and ckpt["step"] == 7
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    rows_b = train(b, 6)
    cols = [a.history.index[c] for c in ("loss/D", "loss/G", "D(x)")]
    np.testing.assert_allclose(rows_a[:, cols], rows_b[:, cols], rtol=1e-5)
    assert b.step == a.step


def test_generator_from_checkpoint_samples(tiny_digits, tmp_path):
    config, knobs = tiny_digits
    run = GANRun(config=config, knobs=knobs)
    train(run, 2)
    G, cfg, spec = generator_from_checkpoint(read_checkpoint(checkpoint_bytes(run)))
    assert not G.training and spec.shape == (1, 28, 28)
    assert G(torch.randn(3, cfg.latent_dim)).shape == (3, 1, 28, 28)


class Payload:
    """Unpickling this would create a file: a checkpoint loader must never do it."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.pt"
    torch.save({"format": "ganengine-checkpoint", "version": 1, "x": Payload(marker)}, bad)
    with pytest.raises(CheckpointError, match="refused"):
        read_checkpoint(bad)
    assert not marker.exists()
    import pickle
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(CheckpointError):
        read_checkpoint(raw)
    assert not marker.exists()


def test_truncated_file_is_refused(tiny_points, tmp_path):
    data = checkpoint_bytes(GANRun(config=tiny_points[0], knobs=tiny_points[1]))
    with pytest.raises(CheckpointError, match="refused"):
        read_checkpoint(data[: len(data) // 2])


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(CheckpointError):
        read_checkpoint(p)
    q = tmp_path / "weights.pt"
    torch.save({"G": torch.zeros(3)}, q)
    with pytest.raises(CheckpointError, match="not a GAN Playground checkpoint"):
        read_checkpoint(q)
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "missing.pt")


def test_wrong_shapes_are_refused(tiny_points):
    run = GANRun(config=tiny_points[0], knobs=tiny_points[1])
    ckpt = build_checkpoint(run)
    ckpt["config"] = dict(ckpt["config"], width=32)  # the weights are for width 16
    buf = __import__("io").BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(CheckpointError, match="shape"):
        read_checkpoint(buf.getvalue())


def test_nan_weights_and_bad_config_are_refused(tiny_points):
    run = GANRun(config=tiny_points[0], knobs=tiny_points[1])
    import io
    ckpt = build_checkpoint(run)
    ckpt["state"]["nets"]["G"] = {k: v.clone() for k, v in ckpt["state"]["nets"]["G"].items()}
    next(iter(ckpt["state"]["nets"]["G"].values())).fill_(float("nan"))
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(CheckpointError, match="NaN"):
        read_checkpoint(buf.getvalue())
    ckpt = build_checkpoint(run)
    ckpt["config"] = dict(ckpt["config"], width=10**7)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(CheckpointError, match="invalid setting"):
        read_checkpoint(buf.getvalue())


def test_size_limit(tmp_path):
    with pytest.raises(CheckpointError, match="limited"):
        read_checkpoint(b"x" * 2048, max_bytes=1024)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tiny_points, tmp_path, monkeypatch):
    run = GANRun(config=tiny_points[0], knobs=tiny_points[1])
    path = save_checkpoint(run, tmp_path / "ck.pt")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_checkpoint(run, path)
    assert path.read_bytes() == before
    assert [p.name for p in Path(tmp_path).iterdir()] == ["ck.pt"]  # no temp file left behind


WRITER = """
import sys, time
sys.path.insert(0, {root!r})
import torch
from ganengine.config import Knobs, RunConfig
from ganengine.run import GANRun
from ganengine.checkpoint import save_checkpoint
run = GANRun(config=RunConfig(data="mnist", model="dcgan", width=32, latent_dim=64, device="cpu"), knobs=Knobs())
print("ready", flush=True)
while True:
    run.step += 1
    save_checkpoint(run, {path!r})
"""


def test_killing_a_writer_leaves_a_valid_checkpoint(tmp_path):
    """SIGKILL a process that rewrites a checkpoint in a loop, many times: the file is always complete."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path
    root = str(Path(__file__).resolve().parents[1])
    path = tmp_path / "ck.pt"
    seen_steps = set()
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=root, path=str(path))],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3 + 0.23 * attempt)  # kill at a different point of a write each time
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ckpt = read_checkpoint(path)  # never truncated: the rename is atomic
        seen_steps.add(int(ckpt["step"]))
    assert len(seen_steps) >= 2  # the writer did replace the file between kills
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ck.pt"]
    assert all(name.startswith(".ck.pt.") for name in leftovers)  # at most unfinished temp files, never the target


# ---- hostile files that used to pass validation (issue 17) -------------------------------------------------------
def hostile(config: dict, shape, *, expand=True, num_classes=10) -> dict:
    """A checkpoint whose every weight is a stride-0 view of one number (4 bytes of storage), for this config/shape."""
    import io as _io

    from ganengine.config import Knobs, RunConfig
    from ganengine.data.spec import DataSpec
    from ganengine.models import _build
    cfg = RunConfig(**config)
    spec = DataSpec(name="mnist", title="x", kind="image", shape=tuple(shape), num_classes=num_classes)
    with torch.device("meta"):
        G, D = _build(cfg, spec)  # no size check: the attacker's own tool

    def fake(model):
        return {k: (torch.zeros((), dtype=v.dtype).expand(v.shape) if expand else torch.zeros(v.shape, dtype=v.dtype))
                for k, v in model.state_dict().items()}
    spec_d = {"name": "mnist", "title": "x", "kind": "image", "shape": list(shape), "num_classes": num_classes,
              "class_names": [str(i) for i in range(num_classes)], "bounds": [-1, 1, -1, 1], "centres": None,
              "sigma": None}
    ckpt = {"format": "ganengine-checkpoint", "version": 1, "config": cfg.to_dict(), "knobs": Knobs().to_dict(),
            "spec": spec_d, "step": 1, "state": {"G": fake(G), "D": fake(D), "G_ema": None}}
    buf = _io.BytesIO()
    torch.save(ckpt, buf)
    return buf.getvalue()


def test_a_10kb_file_of_expanded_views_is_refused():
    """The review's file: 10 KB whose tensors claim gigabytes (stride-0 views); it used to pass validation, and the
    server then built full-size models."""
    import time
    data = hostile(dict(data="mnist", model="dcgan", width=64, device="cpu"), (3, 1024, 1024))
    assert len(data) < 30_000
    began = time.monotonic()
    with pytest.raises(CheckpointError, match="expanded or strided view|limit") as err:
        read_checkpoint(data)
    assert time.monotonic() - began < 5 and "\n" not in str(err.value)


def test_expanded_views_are_refused_even_for_a_small_model():
    data = hostile(dict(data="mnist", model="dcgan", width=8, device="cpu"), (1, 28, 28))
    with pytest.raises(CheckpointError, match="expanded or strided view"):
        read_checkpoint(data)


def test_a_transposed_weight_is_refused(tiny_points):
    import io
    ckpt = build_checkpoint(GANRun(config=tiny_points[0], knobs=tiny_points[1]))
    key, w = next((k, v) for k, v in ckpt["state"]["nets"]["G"].items() if v.ndim == 2 and v.shape[0] == v.shape[1])
    ckpt["state"]["nets"]["G"] = dict(ckpt["state"]["nets"]["G"], **{key: w.clone().t()})
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(CheckpointError, match="strided view"):
        read_checkpoint(buf.getvalue())


@pytest.mark.parametrize("shape,match", [((3, 1024, 1024), "limit is 256"), ((4, 28, 28), "unsupported"),
                                         ((3, 20000, 20000), "limit is 256"), ((1, 2, 2), "2x2")])
def test_image_shapes_in_the_spec_are_bounded(shape, match):
    import io
    run_ck = hostile(dict(data="mnist", model="dcgan", width=8, device="cpu"), (1, 28, 28), expand=False)
    ckpt = torch.load(io.BytesIO(run_ck), weights_only=True)
    ckpt["spec"]["shape"] = list(shape)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(CheckpointError, match=match):
        read_checkpoint(buf.getvalue())


@pytest.mark.parametrize("field,value,match", [
    ("num_classes", 10**6, "limit is 1000"), ("num_classes", True, "whole number"),
    ("class_names", ["x"] * 2000, "class names"), ("class_names", ["x" * 10_000], "class names"),
    ("bounds", [0, float("inf"), 0, 1], "bounds"), ("centres", torch.zeros(5000, 2), "centres"),
    ("name", "x" * 10_000, "name and title"),
], ids=["classes", "classes-bool", "many-names", "long-name", "bounds", "centres", "long-title"])
def test_other_spec_fields_are_bounded(tiny_points, field, value, match):
    import io
    ckpt = build_checkpoint(GANRun(config=tiny_points[0], knobs=tiny_points[1]))
    ckpt["spec"][field] = value
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(CheckpointError, match=match):
        read_checkpoint(buf.getvalue())


def test_a_model_over_the_parameter_cap_is_refused_before_anything_is_built():
    """256 x 256 RGB at width 256 asks for a 724M-parameter DCGAN generator: refused on the meta device."""
    import io
    ckpt = torch.load(io.BytesIO(hostile(dict(data="mnist", model="dcgan", width=256, device="cpu"), (3, 256, 256))),
                      weights_only=True)
    ckpt["state"] = {"G": {}, "D": {}}  # the size check comes before the weights are compared
    with pytest.raises(CheckpointError, match="parameters; the limit is 50,000,000"):
        read_checkpoint(_saved(ckpt))


def test_build_models_refuses_over_the_cap_with_one_sentence():
    from ganengine.config import ConfigError, RunConfig
    from ganengine.data.spec import DataSpec
    from ganengine.models import MAX_MODEL_PARAMS, build_models
    spec = DataSpec(name="x", title="x", kind="image", shape=(3, 64, 64))
    with pytest.raises(ConfigError, match=f"limit is {MAX_MODEL_PARAMS:,}.*lower the width"):
        build_models(RunConfig(data="mnist", model="mlp", width=512), spec)


def _saved(ckpt) -> bytes:
    import io
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    return buf.getvalue()


def test_optimiser_and_rng_states_are_checked(tiny_points):
    run = GANRun(config=tiny_points[0], knobs=tiny_points[1])
    train(run, 2)
    good = build_checkpoint(run)

    def variant(edit):
        import copy
        ck = copy.deepcopy(good)
        edit(ck["state"])
        return _saved(ck)
    bad = {
        "moment shape": lambda s: s["opt"]["G"]["state"][0].update(exp_avg=torch.zeros(3)),
        "extra parameter": lambda s: s["opt"]["D"]["state"].update({99: s["opt"]["D"]["state"][0]}),
        "amsgrad": lambda s: s["opt"]["G"]["param_groups"][0].update(amsgrad=True),
        "lr": lambda s: s["opt"]["G"]["param_groups"][0].update(lr=float("nan")),
        "step": lambda s: s["opt"]["G"]["state"][0].update(step=torch.zeros(10**5)),
        "rng": lambda s: s["rng"].update(noise=torch.zeros(10**6, dtype=torch.uint8)),
        "nan moment": lambda s: s["opt"]["D"]["state"][0]["exp_avg_sq"].fill_(float("nan")),
    }
    for what, edit in bad.items():
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(variant(edit))
        assert "\n" not in str(err.value), what
    assert read_checkpoint(_saved(good))["step"] == 2


def test_a_foreign_data_order_is_refused_on_restore(tiny_digits):
    run = GANRun(config=tiny_digits[0], knobs=tiny_digits[1])
    ckpt = read_checkpoint(checkpoint_bytes(run))
    ckpt["state"]["rng"]["data"]["perm"] = torch.arange(10) + 10**9  # indices the dataset does not have
    with pytest.raises(CheckpointError, match="data order"):
        restore_run(ckpt, GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"]))


STUCK_WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
from ganengine.checkpoint import write_atomic


def stuck(fd):  # the data is written; the process dies before the rename
    print("writing", flush=True)
    time.sleep(60)


os.fsync = stuck
write_atomic({path!r}, b"x" * 100_000)
"""


def test_stale_temp_files_of_a_killed_save_are_removed(tmp_path):
    """kill -9 during a save leaves '.ck.pt.XXXXXXXX.tmp' for good; remove_stale_temp_files deletes it, and only it."""
    import signal
    import subprocess
    import sys
    import time

    from ganengine.checkpoint import remove_stale_temp_files, write_atomic
    root = str(Path(__file__).resolve().parents[1])
    path = tmp_path / "ck.pt"
    write_atomic(path, b"old")
    proc = subprocess.Popen([sys.executable, "-c", STUCK_WRITER.format(root=root, path=str(path))],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ck.pt"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ck.pt.") and leftovers[0].endswith(".tmp")
    keep = ["notes.tmp", ".hidden", ".ck.pt.short.tmp", "ck.pt.abcdefgh.tmp", "other.pt"]
    for name in keep:
        (tmp_path / name).write_bytes(b"mine")
    (tmp_path / ".dir.abcdefgh.tmp").mkdir()  # the pattern, but a folder
    assert remove_stale_temp_files(tmp_path, older_than_s=60) == []  # too fresh: a save may still be under way
    old = time.time() - 120
    for p in tmp_path.iterdir():
        os.utime(p, (old, old))
    assert remove_stale_temp_files(tmp_path, older_than_s=60) == leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep + ["ck.pt", ".dir.abcdefgh.tmp"])
    assert path.read_bytes() == b"old"
    assert remove_stale_temp_files(tmp_path / "missing") == []
