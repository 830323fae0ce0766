"""Section 1: training throughput of the engine against the bare PyTorch loop of the same model and batch.

Headless: both on the main thread with every core (the CLI's setting), interleaved bare/engine/bare/engine... so
that the machine's drift hits both alike; the ratio is engine / bare per pair, and the median ratio is reported.
The engine runs with the same computation as the bare loop (non-saturating BCE, Adam, no R1, no EMA), plus what it
always does (gradient norms, D(x)/D(G(z)) means, bounded histories, sample grids every sample_every steps).
"With the page open" is measured by bench/app_probe.py (a separate process: the app's own thread policy).
"""
from __future__ import annotations

import torch

from bench import bare_loops
from bench.common import median, table
from ganengine.config import Knobs, RunConfig
from ganengine.trainer import Trainer

CASES = {
    # name: (bare loop factory, engine RunConfig, engine Knobs)
    "MLP GAN, MNIST 28x28 (PyTorch-GAN gan.py), batch 64": (
        lambda seed: bare_loops.MLPGAN(seed=seed),
        RunConfig(data="mnist", model="mlp", latent_dim=100, width=128, sample_every=100),
        Knobs(loss="ns", lr_g=2e-4, lr_d=2e-4, beta1=0.5, batch_size=64)),
    "DCGAN 28x28 width 32 (DCGAN tutorial), batch 64": (
        lambda seed: bare_loops.DCGAN28(seed=seed),
        RunConfig(data="mnist", model="dcgan", latent_dim=100, width=32, sample_every=100),
        Knobs(loss="ns", lr_g=2e-4, lr_d=2e-4, beta1=0.5, batch_size=64)),
    "2-D MLP 2x64, ring8, batch 256": (
        lambda seed: bare_loops.Points(seed=seed, width=64, depth=2, batch_size=256),
        RunConfig(data="ring8", model="mlp", latent_dim=8, width=64, depth=2, sample_every=100),
        Knobs(loss="ns", lr_g=1e-3, lr_d=1e-3, beta1=0.5, batch_size=256)),
}


def engine_rate(config, knobs, seconds: float, warmup: int = 20) -> float:
    trainer = Trainer(config=config, knobs=knobs, max_steps=warmup)
    trainer.run_foreground()
    s0, t0 = trainer.run.step, trainer.run.train_seconds
    trainer.set_limits(max_steps=0, max_seconds=t0 + seconds)
    trainer.run_foreground()
    rate = (trainer.run.step - s0) / (trainer.run.train_seconds - t0)
    trainer.close()
    return rate


def bare_rate(factory, seconds: float, warmup: int = 20) -> float:
    loop = factory(0)
    loop.train(steps=warmup)
    s0, t0 = loop.steps, loop.seconds
    loop.train(seconds=seconds)
    return (loop.steps - s0) / (loop.seconds - t0)


def run(quick: bool = False) -> tuple[str, dict]:
    from ganengine.device import configure_threads
    threads = configure_threads(headless=True)
    seconds, reps = (1.0, 1) if quick else (3.0, 6)  # many short pairs: a steadier median on a drifting machine
    rows, data = [], {}
    for name, (factory, config, knobs) in CASES.items():
        bare, engine, ratios = [], [], []
        for _ in range(reps):
            b = bare_rate(factory, seconds)
            e = engine_rate(config, knobs, seconds)
            bare.append(b)
            engine.append(e)
            ratios.append(e / b)
        data[name] = {"bare": bare, "engine": engine, "ratio": ratios}
        rows.append([name, median(bare), median(engine), f"{median(ratios):.2f}",
                     f"{min(ratios):.2f}-{max(ratios):.2f}"])
    text = (f"Headless, main thread, {threads} torch threads, {reps} interleaved pair(s) of {seconds:g} s each.\n\n"
            + table(["model", "bare loop (it/s)", "engine (it/s)", "engine / bare (median)", "range"], rows))
    return text, data


if __name__ == "__main__":
    torch.set_num_threads(2)
    print(run(quick=True)[0])
