"""Section 5: on a GPU (device auto), DCGAN-64 steps/s and the share of the GPU's measured matmul peak it reaches.

FLOPs of one training step are counted by torch.utils.flop_counter (matmul and convolution, forward and backward).
The peak is measured here with large fp32 matmuls (the GPU's spec sheet is not readable from torch). On a machine
without a GPU the rows say so instead of failing.
"""
from __future__ import annotations

import time

import torch

from bench.common import table
from ganengine.config import Knobs, RunConfig
from ganengine.run import GANRun


def step_flops(run) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        run.train_iteration()
    return float(counter.get_total_flops())


def matmul_peak(device, n=4096, reps=10) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(2):
        a @ b
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def run(quick: bool = False) -> tuple[str, dict]:
    if not torch.cuda.is_available():
        return ("No GPU on this machine: this section needs CUDA (the same script runs unchanged where there is one).\n\n"
                + table(["model", "steps/s", "share of matmul peak"], [["DCGAN 64x64, batch 64", "no GPU", "no GPU"]]),
                {"gpu": None})
    device = torch.device("cuda")
    run_ = GANRun(config=RunConfig(data="mnist", model="dcgan", image_size=64, width=64, latent_dim=100, device="cuda"),
                  knobs=Knobs(batch_size=64))
    flops = step_flops(run_)
    for _ in range(10):
        run_.train_iteration()
    torch.cuda.synchronize()
    n = 50 if quick else 300
    t = time.perf_counter()
    for _ in range(n):
        run_.train_iteration()
    torch.cuda.synchronize()
    rate = n / (time.perf_counter() - t)
    peak = matmul_peak(device)
    share = rate * flops / peak
    name = torch.cuda.get_device_name(0)
    return (f"{name}; {flops / 1e9:.1f} GFLOP per step; measured fp32 matmul peak {peak / 1e12:.1f} TFLOP/s.\n\n"
            + table(["model", "steps/s", "share of matmul peak"], [["DCGAN 64x64, batch 64", rate, f"{100 * share:.0f}%"]]),
            {"gpu": name, "steps_per_sec": rate, "flops_per_step": flops, "peak": peak, "share": share})
