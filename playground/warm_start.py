"""Warm, in a background thread at start-up, what a visitor's first trainer would otherwise import on the spot.

torch.optim.Optimizer.add_param_group is wrapped by torch._disable_dynamo (torch/_compile.py), which imports
torch._dynamo on its first call: about 900 modules. So the first Adam built in a fresh process (the first Start,
Next stage of slow motion, or API /start) waited for that import: 2-3 s on an idle 2-core machine, over a minute
at load 10 (measured here, 2026-11-30: GANRun() took 120 s at load 11.7 under nice 19, 0.05 s once imported).
Building a throw-away Adam on one tensor here does that import while the page loads.
"""
from __future__ import annotations

import threading


def _warm() -> None:
    import torch

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])   # imports torch._dynamo (see above); nothing else


def warm_in_background() -> threading.Thread:
    thread = threading.Thread(target=_warm, name="torch-warm-up", daemon=True)
    thread.start()
    return thread
