"""The family seam (issue 11): exact replay with EMA on (rewind, rollback, checkpoints), version-1 checkpoints,
`train --resume`, named scalars, and no family branching outside ganengine/families."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.run import GANRun

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = sorted((ROOT / "assets" / "pretrained").glob("*.pt"))


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def ema_weights(run):
    return [p.detach().clone() for p in run.sampler().parameters()]


def same(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("which", ["tiny_points", "tiny_digits"])
def test_rewind_resumes_bit_identically_with_ema(which, request):
    config, knobs = request.getfixturevalue(which)
    run = GANRun(config=config, knobs=knobs.with_changes(ema_decay=0.999))
    steps(run, 10)
    run.render_visuals()                      # a restore point at step 10
    straight = steps(run, 12)
    ema_straight = ema_weights(run)
    assert run.rewind(10) == 10
    again = steps(run, 12)
    assert np.array_equal(straight[:, 2:-3], again[:, 2:-3], equal_nan=True)  # every named scalar
    assert same(ema_straight, ema_weights(run)), "G_ema differs after a rewind (EMA warm-up counter not restored?)"


def test_rollback_restores_the_ema_counter(tiny_points):
    config, knobs = tiny_points
    run = GANRun(config=config, knobs=knobs.with_changes(ema_decay=0.999))
    steps(run, 8)
    run.remember_good()
    steps(run, 5)
    ema_straight = ema_weights(run)
    run.rollback()
    assert run._ema_updates == 8
    steps(run, 5)
    assert same(ema_straight, ema_weights(run))


def test_checkpoint_round_trip_keeps_g_ema_exact(tiny_digits):
    config, knobs = tiny_digits
    a = GANRun(config=config, knobs=knobs.with_changes(ema_decay=0.999))
    steps(a, 6)
    data = checkpoint_bytes(a)
    rows_a = steps(a, 5)
    b = GANRun(config=config, knobs=knobs.with_changes(ema_decay=0.999))
    ckpt = read_checkpoint(data)
    assert ckpt["version"] == 2 and ckpt["family"] == "gan" and ckpt["state"]["ema_updates"] == 6
    restore_run(ckpt, b)
    rows_b = steps(b, 5)
    assert np.array_equal(rows_a[:, 2:-3], rows_b[:, 2:-3], equal_nan=True)
    assert same(ema_weights(a), ema_weights(b))


@pytest.mark.parametrize("path", PRETRAINED, ids=lambda p: p.name)
def test_bundled_version_1_checkpoints_load_sample_and_resume(path, tmp_path):
    assert torch.load(path, map_location="cpu", weights_only=True)["version"] == 1
    ckpt = read_checkpoint(path)
    assert ckpt["family"] == "gan" and "G" in ckpt["state"]["nets"]
    assert main(["sample", str(path), "--n", "8", "--out", str(tmp_path / "s.npy")]) == 0
    x = np.load(tmp_path / "s.npy")
    assert x.shape[0] == 8 and np.isfinite(x).all()
    out = tmp_path / "resumed"
    assert main(["train", "--resume", str(path), "--steps", "2", "--out", str(out), "--quiet", "--threads", "1"]) == 0
    again = read_checkpoint(out / "checkpoint.pt")
    assert again["version"] == 2 and again["step"] == ckpt["step"] + 2


def test_train_resume_continues_exactly(tmp_path):
    common = ["--data", "ring8", "--seed", "3", "--threads", "1", "--quiet"]
    assert main(["train", *common, "--steps", "40", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *common, "--steps", "20", "--out", str(tmp_path / "split")]) == 0
    first = (tmp_path / "split" / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(tmp_path / "split" / "checkpoint.pt"), "--steps", "20", "--quiet",
                 "--threads", "1", "--out", str(tmp_path / "split")]) == 0

    def rows(path):
        return [json.loads(line) for line in path.read_text().splitlines()]
    straight, split = rows(tmp_path / "straight" / "metrics.jsonl"), rows(tmp_path / "split" / "metrics.jsonl")
    assert len(rows(tmp_path / "straight" / "metrics.jsonl")) == 40 and len(first.splitlines()) == 20
    assert [r["step"] for r in split] == list(range(1, 41))
    keys = ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D", "lr_g")
    assert [[r[k] for k in keys] for r in straight] == [[r[k] for k in keys] for r in split]


def test_resume_refuses_settings_flags(tmp_path, capsys):
    assert main(["train", "--data", "ring8", "--steps", "2", "--out", str(tmp_path), "--quiet"]) == 0
    assert main(["train", "--resume", str(tmp_path / "checkpoint.pt"), "--lr-g", "0.1", "--steps", "1",
                 "--out", str(tmp_path)]) == 2
    assert "--lr-g" in capsys.readouterr().err


def test_step_kinds_come_from_the_family(tiny_points):
    from ganengine.config import ConfigError
    run = GANRun(config=tiny_points[0], knobs=tiny_points[1])
    assert run.family.phases == ("both", "d", "g")
    with pytest.raises(ConfigError, match="step kind"):
        run.train_iteration("dg")


def test_no_file_outside_a_family_asks_which_family_it_is():
    pattern = re.compile(r"family\s*(==|!=|in\s*\()|\.family\.name\s*==")
    for folder in ("ganengine", "playground"):
        for path in (ROOT / folder).rglob("*.py"):
            if "families" in path.parts:
                continue
            assert not pattern.search(path.read_text()), f"{path} branches on the family"
