"""Precision / recall (Kynkaanniemi et al. 2019, k = 3) and density / coverage (Naeem et al. 2020, k = 5).

With real features R, fake features F and NND_k(r) the distance from r to its k-th nearest neighbour in R:
  precision = share of fakes inside at least one real ball B(r, NND_k(r));
  recall    = share of reals inside at least one fake ball B(f, NND_k(f));
  density   = (1 / kM) sum_f #{r : f in B(r, NND_k(r))}  (can exceed 1);
  coverage  = share of reals whose own ball holds at least one fake.
"""
from __future__ import annotations

import numpy as np


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aa, bb = (a * a).sum(1)[:, None], (b * b).sum(1)[None, :]
    return np.sqrt(np.clip(aa + bb - 2 * a @ b.T, 0, None))


def _kth_radius(x: np.ndarray, k: int) -> np.ndarray:
    d = _pairwise(x, x)
    return np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself


def prdc(real: np.ndarray, fake: np.ndarray, *, k_pr: int = 3, k_dc: int = 5) -> dict:
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    d_rf = _pairwise(real, fake)                      # (N, M)
    r_real_pr, r_fake = _kth_radius(real, k_pr), _kth_radius(fake, k_pr)
    precision = float((d_rf < r_real_pr[:, None]).any(0).mean())
    recall = float((d_rf < r_fake[None, :]).any(1).mean())
    r_real_dc = _kth_radius(real, k_dc)
    inside = d_rf < r_real_dc[:, None]
    density = float(inside.sum() / (k_dc * fake.shape[0]))
    coverage = float(inside.any(1).mean())
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}
