"""Mode-collapse metrics on 2-D Gaussian mixtures, exactly the PacGAN / VEEGAN protocol (shared/guide/BENCHMARKS.md).

For N generated samples (2,500 in the papers) and a mixture with centres c_k and std sigma:
  high quality   a sample within 3 sigma of its nearest centre; reported as a % of all samples
                 (a perfect 2-D Gaussian sample is high quality with probability 1 - exp(-9/2) = 98.9%)
  modes captured the number of centres that are the nearest centre of at least one high-quality sample
  reverse KL     KL(p || u) where p is the histogram of every sample's nearest centre and u is uniform over the K modes:
                 sum_k p_k log(p_k K), 0 when the mass is evenly spread, log K when every sample sits on one mode
"""
from __future__ import annotations

import numpy as np

# Published means (modes / % high quality / reverse KL), for reference lines; BENCHMARKS.md.
PUBLISHED = {
    "ring8": {"GAN (PacGAN)": (6.3, 98.2, 0.45), "PacGAN2": (7.9, 95.6, 0.07), "PacGAN4": (7.8, 95.9, 0.07),
              "VEEGAN": (8.0, 52.9, None), "GDPP": (8.0, 71.7, None)},
    "grid25": {"GAN (PacGAN)": (17.3, 94.8, 0.70), "PacGAN2": (23.8, 91.3, 0.13), "PacGAN4": (24.8, 93.6, 0.04),
               "VEEGAN": (24.6, 40.0, None), "GDPP": (24.8, 68.5, None)},
}


def mixture_metrics(samples: np.ndarray, centres: np.ndarray, sigma: float) -> dict:
    """samples (N, 2), centres (K, 2) -> modes, high_quality (%), reverse_kl, and the per-mode counts."""
    samples = np.asarray(samples, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    finite = np.isfinite(samples).all(1)
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)  # (N, K)
    d[~finite] = np.inf
    nearest = d.argmin(1)
    hq = (d.min(1) <= 3 * sigma) & finite
    k = len(centres)
    counts = np.bincount(nearest[finite], minlength=k)
    p = counts / max(counts.sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rkl = float(np.nansum(np.where(p > 0, p * np.log(p * k), 0.0)))
    return {"modes": int(len(np.unique(nearest[hq]))), "num_modes": k, "high_quality": float(100 * hq.mean()),
            "reverse_kl": rkl, "mode_counts": counts.tolist()}
