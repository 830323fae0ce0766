"""The progressive GAN's two views as uint8 images (ganengine.families.progan): pure drawing, no training state.

grid    the fixed-z samples at the level being trained, scaled up nearest-neighbour to 32 px (so a 4 px sample is
        visibly blocky), under a label with the level and alpha: the timeline frame, which shows the growth.
levels  one row per fixed z, one column per level (4, 8, 16, 32 px), each scaled up to 32 px: finished levels as
        kept, the current level live, levels not grown yet in flat grey; column labels on top.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.models.progan import FINAL, LEVELS, side
from ganengine.render import image_grid

LABEL_HEIGHT = 13
PAD = 2


def _up(x: torch.Tensor) -> torch.Tensor:
    """(N, C, r, r) -> (N, C, 32, 32), nearest neighbour (each pixel of a level becomes a block)."""
    return F.interpolate(x, size=FINAL, mode="nearest") if x.shape[-1] != FINAL else x


def _labelled(grid: np.ndarray, labels: list) -> np.ndarray:
    """The grid under a dark strip with texts at x offsets: labels = [(x, text), ...]."""
    from PIL import Image, ImageDraw, ImageFont
    strip = Image.new("RGB", (grid.shape[1], LABEL_HEIGHT), (24, 24, 24))
    draw, font = ImageDraw.Draw(strip), ImageFont.load_default()
    for x, text in labels:
        draw.text((x, 1), text, fill=(235, 235, 235), font=font)
    return np.concatenate([np.asarray(strip, dtype=np.uint8), grid], axis=0)


def grid_view(now: torch.Tensor, level: int, alpha: float, nrow: int = 8) -> np.ndarray:
    """now: the fixed z's images at the current level (N, C, r, r) in [-1, 1]."""
    grid = image_grid(_up(now).clamp(-1, 1).numpy(), nrow=nrow, pad=PAD)
    text = f"{side(level)} px" + (f"  fading in: alpha {alpha:.2f}" if alpha < 1 else "  stable")
    return _labelled(grid, [(PAD + 1, text)])


def levels_view(kept: dict, now: torch.Tensor, level: int, alpha: float) -> np.ndarray:
    """kept: finished level (str) -> (n, C, r, r); now: the current level's images of the same z (n, C, r, r)."""
    n, c = now.shape[:2]
    columns = []
    for k in range(LEVELS):
        if k < level and str(k) in kept:
            columns.append(_up(kept[str(k)]))
        elif k == level:
            columns.append(_up(now))
        else:                                                      # not grown yet: flat grey
            columns.append(torch.zeros(n, c, FINAL, FINAL))
    tiles = torch.stack(columns, dim=1).reshape(n * LEVELS, c, FINAL, FINAL)   # row i: z_i at 4, 8, 16, 32 px
    grid = image_grid(tiles.clamp(-1, 1).numpy(), nrow=LEVELS, pad=PAD)
    labels = [(PAD + k * (FINAL + PAD) + 1, f"{side(k)}px" + ("*" if k == level and alpha < 1 else ""))
              for k in range(LEVELS)]
    return _labelled(grid, labels)
