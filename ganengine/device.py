"""Device choice and the CPU thread policy.

Device: cuda, then mps, then cpu, unless the config names one.

Threads: torch's intra-op pool is process-wide, and libgomp's workers spin-wait by default. Measured on the 2-core
CPU (MNIST MLP GAN and DCGAN-28 at batch 64; bench/RESULTS.md has the current figures):
  headless: 2 spinning threads were 1.15-1.6x faster than 1 thread;
  beside a busy thread (a UI server): 2 spinning threads fell to 0.45x of 1 thread; 2 threads with
  OMP_WAIT_POLICY=PASSIVE were no faster than 1 thread, which kept its speed.
So the CLI (headless) uses every core, and a UI process sets OMP_WAIT_POLICY=PASSIVE before importing torch
(app.py does) and trains on 1 thread on a machine with at most 2 cores, leaving a core to the server.
Small steps (estimated under SMALL_STEP_FLOPS, ganengine.cost: the 2-D MLP presets) train on 1 thread everywhere:
their ops are too small to split, so a second thread only adds OpenMP fork/join, and a spinning worker that another
process has descheduled stalls every op. Measured (bench/RESULTS.md section 6): the ring8 preset step on the idle
machine ran 481 it/s on 1 thread against 408 on 2; on the shared machine (load ~10) 85-145 against 3 it/s.
The CLI's image steps keep libgomp's default (spinning) wait policy: OMP_WAIT_POLICY=PASSIVE measured 0.95-1.05x
(median 0.99) on dcgan-mnist from the CLI, 4 interleaved pairs at load 9-19 (bench/RESULTS.md section 6).
GAN_THREADS overrides all of these.
"""
from __future__ import annotations

import os

import torch

from ganengine.config import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """Return the torch device for a config's device name; raise ConfigError if it is not available here."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for, but this machine has no usable CUDA GPU (try --device cpu)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device mps was asked for, but this machine has no Apple GPU (try --device cpu)")
    return torch.device(name)


SMALL_STEP_FLOPS = 2e8  # below this estimated cost per iteration, 1 thread (the ring8 step: 36 MFLOP; MNIST MLP: 1.2 G)


def default_threads(*, headless: bool = False, step_flops: float = 0.0) -> int:
    """Intra-op threads for training: GAN_THREADS if set; 1 for a step estimated under SMALL_STEP_FLOPS (0: not
    known); headless, every core; beside a UI, 1 on machines with at most 2 cores, else cores - 1."""
    env = os.environ.get("GAN_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ConfigError(f"GAN_THREADS must be a whole number, got {env!r}") from None
    if 0 < step_flops < SMALL_STEP_FLOPS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if headless:
        return cores
    return 1 if cores <= 2 else cores - 1


def configure_threads(n: int | None = None, *, headless: bool = False, step_flops: float = 0.0) -> int:
    """Set torch's intra-op thread count (process-wide) and return it."""
    n = default_threads(headless=headless, step_flops=step_flops) if n is None else max(1, int(n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def run_step_flops(run) -> float:
    """The estimated FLOPs of one iteration of a GANRun at its current batch size (ganengine.cost), kept on the run;
    0 when it cannot be estimated."""
    key = (run.knobs.batch_size, run.knobs.d_steps, run.knobs.loss, run.knobs.r1_weight > 0, run.knobs.gp_weight > 0)
    cached = getattr(run, "_step_flops_cache", None)
    if cached is None or cached[0] != key:
        from ganengine.cost import step_flops
        try:
            flops = float(step_flops(run.config, run.knobs, run.spec))
        except Exception:  # an estimate only steers the thread count; a family the estimate cannot build keeps the default
            flops = 0.0
        cached = run._step_flops_cache = (key, flops)
    return cached[1]
