"""A checkpoint of a run on a visitor's own points (uploaded or drawn) carries those points, so it restores exactly.

The run's config names its points file (RunConfig.points_path), a path on the machine that trained it; the file may
be gone, or the checkpoint opened elsewhere (another page, another server). So a checkpoint of data "points" also
holds the points themselves, under "points": one float32 tensor (N, 2), 2 <= N <= MAX_POINTS, finite, within
+-1e6 (the same bounds as an uploaded file: ganengine.data.points.parse_points). Read with weights_only=True like the
rest of the checkpoint (ganengine.checkpoint); write_points_file turns them back into the CSV the engine reads.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ganengine.data.points import MAX_POINTS


def points_entry(run) -> dict:
    """{"points": float32 (N, 2) CPU tensor} for a run on data "points", else {} (merged into the checkpoint)."""
    points = getattr(run.source, "points", None)
    if run.config.data != "points" or points is None:
        return {}
    return {"points": points.detach().to("cpu", torch.float32).contiguous().clone()}


def check_points_entry(ckpt: dict, name: str) -> None:
    """Refuse a "points" entry that is not a bounded (N, 2) float32 array of finite numbers (ValueError)."""
    t = ckpt.get("points")
    if t is None:
        return
    if not isinstance(t, torch.Tensor) or t.dtype != torch.float32 or t.ndim != 2 or t.shape[1] != 2 or \
            not 2 <= t.shape[0] <= MAX_POINTS:
        raise ValueError(f"{name}: its points are not an N x 2 float32 array of 2 to {MAX_POINTS:,} points")
    if not torch.isfinite(t).all() or float(t.abs().max()) > 1e6:
        raise ValueError(f"{name}: its points hold NaN, infinite or out-of-range (beyond +-1e6) values")


def checkpoint_points(ckpt: dict) -> Optional[np.ndarray]:
    """The points a validated checkpoint carries (float32 (N, 2)), or None."""
    t = ckpt.get("points")
    return None if t is None else t.numpy().astype(np.float32, copy=True)
