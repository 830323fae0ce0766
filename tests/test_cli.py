"""The CLI end to end on ring8 and MNIST for a few steps, and its one-line errors."""
import json
import subprocess
import sys

import numpy as np
import pytest

from ganengine.cli import main

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def run_cli(*args):
    return main([str(a) for a in args])


def test_train_and_sample_ring8(tmp_path, capsys):
    out = tmp_path / "ring8"
    assert run_cli("train", "--data", "ring8", "--steps", 60, "--seed", 0, "--out", out, "--threads", 1) == 0
    for name in ("checkpoint.pt", "metrics.jsonl", "config.json", "samples.png", "progress.gif"):
        assert (out / name).is_file(), name
    assert list(out.glob("grid_*.png"))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 61))  # every step, full resolution
    assert {"loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after"} <= set(rows[0])
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["data"] == "ring8" and config["preset"] == "ring8"
    assert "Loss_D" in capsys.readouterr().out

    samples = tmp_path / "s.npy"
    assert run_cli("sample", out / "checkpoint.pt", "--n", 2500, "--seed", 1, "--out", samples) == 0
    x = np.load(samples)
    assert x.shape == (2500, 2) and x.dtype == np.float32
    assert run_cli("sample", out / "checkpoint.pt", "--n", 100, "--out", tmp_path / "s.png") == 0
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_train_and_sample_mnist_dcgan(tmp_path):
    out = tmp_path / "mnist"
    assert run_cli("train", "--data", "mnist", "--model", "dcgan", "--loss", "ns", "--steps", 6, "--width", 8,
                   "--out", out, "--quiet") == 0
    x_path = tmp_path / "d.npy"
    assert run_cli("sample", out / "checkpoint.pt", "--n", 10, "--out", x_path) == 0
    x = np.load(x_path)
    assert x.shape == (10, 1, 28, 28) and x.min() >= -1 and x.max() <= 1


def test_cgan_label(tmp_path):
    out = tmp_path / "c"
    assert run_cli("train", "--data", "mnist", "--model", "cgan", "--steps", 3, "--width", 8, "--out", out,
                   "--quiet") == 0
    assert run_cli("sample", out / "checkpoint.pt", "--n", 5, "--label", 7, "--out", tmp_path / "c.npy") == 0
    assert run_cli("sample", out / "checkpoint.pt", "--n", 5, "--label", 12, "--out", tmp_path / "c.npy") == 2


@pytest.mark.parametrize("args,fragment", [
    (["train", "--data", "nope"], "invalid choice"),
    (["train", "--lr-g", "-1", "--steps", "1"], "G learning rate"),
    (["train", "--lr-g", "nan", "--steps", "1"], "finite"),
    (["train", "--batch-size", "0", "--steps", "1"], "batch size"),
    (["train", "--latent-dim", "0", "--steps", "1"], "latent size"),
    (["train", "--steps", "0"], "--steps"),
    (["train", "--data", "ring8", "--model", "dcgan", "--steps", "1"], "mlp"),
    (["train", "--data", "points", "--steps", "1"], "points"),
    (["train", "--data", "mnist-full", "--no-download", "--steps", "1"], "bundled"),
    (["sample", "missing.pt"], "not found"),
    (["sample", "x.pt", "--out", "a.txt"], ".npy or .png"),
    ([], "required"),
])
def test_bad_arguments_end_with_one_line(args, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(*args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:") and fragment in err, err


def test_bad_file_in_a_subprocess_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    proc = subprocess.run([sys.executable, "-m", "ganengine", "sample", str(bad)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_derived_preset_is_named_after_its_dataset():
    """Issue 11 review: presets derived for other datasets kept the title "Conditional digits"."""
    from ganengine.presets import preset_for_data
    assert "cifar10" in preset_for_data("cifar10").title and "digits" not in preset_for_data("cifar10").title
    assert preset_for_data("mnist").title == "Conditional digits"


def test_the_train_verb_takes_every_familys_datasets():
    """SRGAN's lowres7 / lowres14 were missing from --data (the merge of four families listed only some)."""
    from ganengine.cli import build_parser
    from ganengine.families import FAMILIES, family_class
    parser = build_parser()
    for name in FAMILIES:
        for data in family_class(name).datasets:
            assert parser.parse_args(["train", "--data", data]).data == data
