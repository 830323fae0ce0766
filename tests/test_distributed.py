"""torchrun with 2 gloo processes on the CPU (ganengine.distributed): the all-reduced update is the single-process
update at the global batch, the ranks' batches are the single-process batch split in two, the ranks' weights agree,
and the CLI under torchrun writes a checkpoint that a single-process `sample` reads."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganengine.config import Knobs, RunConfig
from ganengine.run import GANRun

ROOT = Path(__file__).resolve().parent.parent


def torchrun(*args, timeout=400):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *map(str, args)]
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def worker_out(tmp_path_factory):
    """Two gloo ranks forked from this process (torch already imported: seconds, not a torchrun start-up each)."""
    import torch.multiprocessing as mp
    from ddp_worker import forked_rank
    out = tmp_path_factory.mktemp("ddp")
    mp.start_processes(forked_rank, args=(str(out), free_port()), nprocs=2, start_method="fork", join=True)
    return out


def test_reduced_gradient_is_the_global_batch_gradient(worker_out):
    """D has no BatchNorm (mlp), so the mean of the ranks' gradients is the global batch's gradient up to float
    rounding (summation order): max difference < 1e-6 of the largest gradient entry."""
    check = torch.load(worker_out / "grad_check.pt", weights_only=True)
    assert check["scale"] > 0
    assert check["worst"] <= 1e-6 * check["scale"] + 1e-9, check


def test_rank_batches_are_the_single_process_batch_split(worker_out):
    """Rank r's real batch is the r-th half of the batch a single process draws at the global batch size."""
    check = torch.load(worker_out / "grad_check.pt", weights_only=True)
    single = GANRun(config=RunConfig(data="mnist", model="mlp", width=16, latent_dim=8, seed=3, device="cpu"),
                    knobs=Knobs(batch_size=16, loss="ns", r1_weight=0.0, ema_decay=0.0))
    real, _ = single.source.sample(16)
    assert torch.equal(torch.cat(check["real"]), real)
    assert not torch.equal(check["real"][0], check["real"][1])


def test_both_ranks_weights_agree(worker_out):
    """After 3 iterations of dcgan with R1 (double backward) and EMA: every weight, BatchNorm statistic and EMA
    weight is bit-equal on the two ranks (one all-reduced gradient, then the same Adam step on both)."""
    a = torch.load(worker_out / "rank0.pt", weights_only=True)
    b = torch.load(worker_out / "rank1.pt", weights_only=True)
    for part in ("nets", "ema"):
        for net, state in a[part].items():
            for key, t in state.items():
                if part == "nets" and net == "D" and "running" in key:
                    continue  # D's BN statistics move again in G's update after D's step took rank 0's
                assert torch.equal(t, b[part][net][key]), (part, net, key)


def test_an_fp16_overflow_on_one_rank_skips_the_step_on_every_rank(worker_out):
    """Rank 0's scaled gradient is inf, rank 1's is finite: with the overflow flag agreed (agree_on_overflow) both
    ranks skip the step (weights unchanged, equal, finite) and both halve the scale (256 -> 128). Without it rank 1
    stepped with the all-reduced inf gradient (NaN weights) and kept its scale."""
    torch.manual_seed(0)
    start = torch.nn.Linear(3, 2).weight.detach()
    a = torch.load(worker_out / "fp16_rank0.pt", weights_only=True)
    b = torch.load(worker_out / "fp16_rank1.pt", weights_only=True)
    for r in (a, b):
        assert torch.equal(r["weight"], start) and r["scale"] == 128.0, r


def test_cli_under_torchrun_writes_a_checkpoint_single_process_sample_reads(tmp_path):
    out = tmp_path / "ddp"
    proc = torchrun("-m", "ganengine", "train", "--data", "mnist", "--model", "dcgan", "--width", "8",
                    "--batch-size", "8", "--steps", "4", "--out", out)
    assert "per-rank batch 8 x 2 = global batch 16" in proc.stdout
    assert (out / "checkpoint.pt").exists() and (out / "metrics.jsonl").exists()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4  # rank 0 alone wrote the metrics
    from ganengine.cli import main                          # the single-process `sample` reads it
    assert main(["sample", str(out / "checkpoint.pt"), "--n", "8", "--out", str(tmp_path / "s.npy")]) == 0
    import numpy as np
    assert np.load(tmp_path / "s.npy").shape == (8, 1, 28, 28)


def test_seconds_budget_is_refused_under_torchrun(tmp_path, monkeypatch, capsys):
    from ganengine.cli import main
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--data", "mnist", "--seconds", "5", "--out", str(tmp_path)]) == 2
    assert "give --steps" in capsys.readouterr().err
