"""How many visitors may train at once on a GPU: the device's free memory divided by one trainer's share.

On the CPU the cap is a fixed number (GAN_MAX_TRAINERS's default in playground.settings: the cores decide). On a
CUDA GPU the trainers share the device; each holds its nets, their EMA copies, Adam's moments and one batch's
activations. The app's largest setup under the public cost cap (GAN_MAX_STEP_GFLOPS) stays far below
GAN_GPU_MIB_PER_TRAINER (default 512 MiB, a conservative share that includes the allocator's cache), so the cap is
    slots = floor(0.8 x free memory / per-trainer share), between 1 and GAN_GPU_MAX_TRAINERS (default 32),
keeping a fifth of the free memory for the app's own pretrained Explore generator and for fragmentation.
GAN_MAX_TRAINERS, when set, still wins.
"""
from __future__ import annotations

from playground.env import env_int

HEADROOM = 0.8


def default_max_trainers(cpu_default: int) -> int:
    """The trainer cap for this machine: cpu_default without CUDA, else the GPU memory's share (see above)."""
    import torch
    if not torch.cuda.is_available():
        return cpu_default
    free, _total = torch.cuda.mem_get_info()
    return slots_for_memory(free)


def slots_for_memory(free_bytes: int) -> int:
    per = env_int("GAN_GPU_MIB_PER_TRAINER", 512) * 2**20
    return max(1, min(env_int("GAN_GPU_MAX_TRAINERS", 32), int(HEADROOM * free_bytes // per)))
