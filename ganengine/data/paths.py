"""Paths for one moving digit (ganengine.data.moving's clips): a few named ones and one read off a drawing, for the
app's Explore ("pick or draw a path for a digit and watch the live generator render the clip", issue 14).

A path is int64 (T, 2): the 20 px tile's top-left corner (row, col) in each frame, each in 0..ROOM (= 12) so the
digit stays on the 32 px canvas; the digit's centre is the corner + 10.
  bounce    ganengine.data.moving's motion (Moving MNIST's): from (0, 3) at velocity (2, 1) px per frame, reflected
            at the walls, as the training clips move
  circle    one turn of radius 5 px round the canvas centre, T frames: 2 pi 5 / T px per frame (about 2 at T = 16)
  zig-zag   left to right across the canvas, the row going up and down between 2 and 10 (~1.3 px a frame)
  drawn     a stroke read off a drawing (path_from_drawing): its ink ordered into one walk from one end to the other,
            then T positions spaced evenly along it
Training clips move at most 2 px a frame on each axis; paths with longer steps are allowed (the warp of
ganengine.models.sequential takes any shift), but G has not seen them.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ganengine.config import ConfigError
from ganengine.data.moving import ROOM, SIDE, TILE

NAMES = ("bounce", "circle", "zig-zag")


def _reflect(p: np.ndarray) -> np.ndarray:
    """Positions folded back into 0..ROOM (a bounce off each wall)."""
    p = np.mod(p, 2 * ROOM)
    return np.where(p > ROOM, 2 * ROOM - p, p)


def named_path(name: str, frames: int) -> torch.Tensor:
    """A named path (module docstring) of `frames` positions, int64 (frames, 2)."""
    if not 2 <= frames <= 64:
        raise ConfigError("a clip is 2 to 64 frames")
    t = np.arange(frames, dtype=np.float64)
    if name == "bounce":
        rc = _reflect(np.stack([0 + 2 * t, 3 + 1 * t], 1))
    elif name == "circle":
        a = 2 * math.pi * t / frames
        rc = np.stack([ROOM / 2 - 5 * np.cos(a), ROOM / 2 + 5 * np.sin(a)], 1)
    elif name == "zig-zag":
        rc = np.stack([2 + _reflect(2 * t) * 8 / ROOM, t * ROOM / (frames - 1)], 1)
    else:
        raise ConfigError(f"unknown path {name!r}: one of {', '.join(NAMES)} or a drawn one")
    return torch.from_numpy(np.clip(np.rint(rc), 0, ROOM).astype(np.int64))


def _walk(points: np.ndarray) -> np.ndarray:
    """Ink points (N, 2) -> the same points in one walk: start at the point farthest from the ink's centre (an end of
    a stroke), then always step to the nearest point not yet visited (a greedy nearest-neighbour chain)."""
    start = int(np.argmax(((points - points.mean(0)) ** 2).sum(1)))
    left = np.ones(len(points), dtype=bool)
    order, cur = [start], start
    left[start] = False
    for _ in range(len(points) - 1):
        d = ((points - points[cur]) ** 2).sum(1)
        d[~left] = np.inf
        cur = int(np.argmin(d))
        order.append(cur)
        left[cur] = False
    return points[order]


def path_from_drawing(ink: np.ndarray, frames: int) -> torch.Tensor:
    """A drawing's ink, bool (H, W) on a square canvas standing for the 32 px frame, -> int64 (frames, 2): the
    digit's centre follows the stroke (module docstring: "drawn"); points out of the digit's reach are moved to the
    nearest reachable one. ConfigError if nothing is drawn."""
    if not 2 <= frames <= 64:
        raise ConfigError("a clip is 2 to 64 frames")
    ink = np.asarray(ink, dtype=bool)
    if ink.ndim != 2 or ink.shape[0] != ink.shape[1]:
        raise ConfigError("the path drawing must be a square image")
    step = max(1, ink.shape[0] // 64)                                   # at most ~64 x 64 points to order
    ys, xs = np.nonzero(ink[::step, ::step])
    if len(ys) < 2:
        raise ConfigError("draw a path first: one stroke, where the digit should go")
    scale = SIDE / ink.shape[0] * step
    centres = np.stack([ys, xs], 1) * scale + scale / 2 - TILE / 2        # (N, 2): tile corners, 32 px units
    walk = _walk(np.clip(centres, 0, ROOM))
    arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(walk, axis=0), axis=1))])   # (N,) length so far
    at = np.linspace(0, arc[-1], frames)
    rc = np.stack([np.interp(at, arc, walk[:, 0]), np.interp(at, arc, walk[:, 1])], 1)
    return torch.from_numpy(np.clip(np.rint(rc), 0, ROOM).astype(np.int64))
