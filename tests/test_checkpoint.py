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
    cols = [a.history.index[c] for c in ("loss_d", "loss_g", "d_real")]
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
    ckpt["state"]["G"] = {k: v.clone() for k, v in ckpt["state"]["G"].items()}
    next(iter(ckpt["state"]["G"].values())).fill_(float("nan"))
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
