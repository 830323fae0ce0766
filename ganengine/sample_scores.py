"""D's verdict on each sample of an image grid: sigmoid(D(x)) per fixed-noise sample, for the grid's tint and hover.

D outputs a logit (any real number; hinge and Wasserstein critics too). The view shows sigmoid(D(x)), the reading
the non-saturating loss gives it (Goodfellow et al. 2014: D(x) = the probability that x is real) and that the 2-D
field's heatmap uses, so 1 = "looks real", 0 = "looks fake", 0.5 = undecided. For the hinge and Wasserstein losses it is
still a monotone reading of the same score (higher = more real), so the ranking of samples is what it shows; the
raw logit is kept beside it. Computed by the render job on its frozen copy of D, off the training thread.
"""
from __future__ import annotations

import torch

from ganengine.families.base import eval_mode


@torch.no_grad()
def grid_scores(D, fake: torch.Tensor, y, ncol: int) -> dict:
    """fake (n, C, H, W) on D's device, y (n,) labels for a conditional D or None -> {"prob": [n floats],
    "logit": [n floats], "ncol", "tile": (H, W), "pad": 2} (the layout of ganengine.render.image_grid)."""
    with eval_mode(D):
        logit = D(fake, y).reshape(len(fake), -1).mean(1).float().cpu()   # (n,): a patch D's map is averaged
    prob = torch.sigmoid(logit)
    return {"prob": [round(float(v), 4) for v in prob], "logit": [round(float(v), 4) for v in logit],
            "ncol": int(min(ncol, len(fake))), "tile": (int(fake.shape[-2]), int(fake.shape[-1])), "pad": 2}
