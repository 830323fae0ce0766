"""Explore for generators that render a clip along a path (vid2vid): pick or draw a path for a digit and watch G
render the clip (issue 14). No Gradio here; playground/explore_tab.py wires it.

A family takes part by having ``render_path(G, digit, path, use_prev)`` (ganengine.families.vid2vid); the paths come
from ganengine.data.paths (bounce, circle, zig-zag, or read off a drawing). Each clip is rendered twice by the same
G: with the warped previous frame (vid2vid's sequential G) and frame by frame (no previous frame), so a visitor sees
what the temporal part changes; the caption gives both clips' warp error with the known motion and how many frames
the bundled classifier reads as the digit (ganengine.metrics.video).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ganengine.config import ConfigError
from ganengine.families import family_class
from ganengine.render import image_grid

PATH_CHOICES = (("Bounce (as the training clips move)", "bounce"), ("Circle", "circle"), ("Zig-zag", "zig-zag"),
                ("The path I draw", "drawn"))
SCALE = 4                 # 32 px frames shown 4x
MAX_FRAMES = 32


def renders_paths(config) -> bool:
    """Whether a run's family renders clips along a path (and Explore shows the path panel for it)."""
    return callable(getattr(family_class(config.family), "render_path", None))


def held_out_digit(digit, example) -> tuple[torch.Tensor, int]:
    """uint8 (1, 20, 20) tile of a held-out digit (never trained on): the example-th of that class (50 each)."""
    from ganengine.data.moving import load_tiles
    try:
        d, e = int(digit), int(example)
    except (TypeError, ValueError):
        raise ConfigError("the digit and the example must be whole numbers") from None
    if not 0 <= d <= 9:
        raise ConfigError("the digit must be 0 to 9")
    data = load_tiles()
    idx = data["test"][data["label"][data["test"]] == d]                  # (50,) of that class
    return data["tiles"][idx[e % len(idx)]], d


def trajectory(path: torch.Tensor, t: int) -> torch.Tensor:
    """(1, 32, 32) in [-1, 1]: the digit centre's path as dim dots, frame t's position bright."""
    from ganengine.data.moving import SIDE, TILE
    img = torch.full((1, SIDE, SIDE), -1.0)
    centre = path + TILE // 2                                                # (T, 2): the tile's centre
    img[0, centre[:, 0], centre[:, 1]] = -0.3
    r, c = int(centre[t, 0]), int(centre[t, 1])
    img[0, max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] = 1.0
    return img


def path_clip(G, config, digit, example, path_name: str, frames, ink: Optional[np.ndarray] = None):
    """(frames (T, H, W, 3) uint8 for a GIF, caption). Each frame: path · edges (G's input) · the real digit moving
    · G with its warped previous frame · the same G frame by frame. ConfigError with one sentence for bad input."""
    from ganengine.data.paths import named_path, path_from_drawing
    from ganengine.metrics.video import clip_report
    family = family_class(config.family)
    try:
        n = int(frames)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError("the number of frames must be a whole number") from None
    if not 2 <= n <= MAX_FRAMES:
        raise ConfigError(f"a clip is 2 to {MAX_FRAMES} frames")
    if path_name == "drawn":
        if ink is None:
            raise ConfigError("draw a path first: one stroke, where the digit should go")
        path = path_from_drawing(ink, n)
    else:
        path = named_path(path_name, n)                                       # (T, 2)
    tile, d = held_out_digit(digit, example)
    with_prev = family.render_path(G, tile, path, True)                     # each (T, 1, 32, 32) in [-1, 1]
    alone = family.render_path(G, tile, path, False)["generated"]
    real = with_prev["real"]
    label = torch.tensor([d])
    reports = [clip_report(x[None], real[None], label, path[None]) for x in (with_prev["generated"], alone)]
    shown = [torch.stack([trajectory(path, t), with_prev["condition"][t], real[t], with_prev["generated"][t],
                          alone[t]]) for t in range(n)]                      # T x (5, 1, 32, 32)
    pictures = np.stack([image_grid(x.numpy(), nrow=5, scale=SCALE) for x in shown])
    (a, b) = reports
    caption = (f"Digit {d} (held-out example {int(example) % 50}) along the {path_name} path, {n} frames. "
               f"Left to right: the path · the edges G is given · the real digit moving · G with its warped "
               f"previous frame (vid2vid) · the same G frame by frame. Warp error with the known motion "
               f"(0 = no flicker): {a['warp']:.3f} vid2vid, {b['warp']:.3f} frame by frame; frames read as {d}: "
               f"{a['accuracy']:.0%} and {b['accuracy']:.0%}.")
    return pictures, caption
