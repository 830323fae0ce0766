"""Frechet distance between Gaussian fits of two feature sets (Heusel et al. 2017, the formula behind FID).

FD = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)).
Tr((S_1 S_2)^(1/2)) is computed as the sum of square roots of the eigenvalues of S_1^(1/2) S_2 S_1^(1/2), which is
symmetric positive semi-definite, so plain numpy eigh suffices (no scipy).
In this project the features come from a small MNIST classifier, so the number is "FD (classifier features)": it is
not comparable with Inception FID, and it is always shown next to its real-vs-real floor.
"""
from __future__ import annotations

import numpy as np


def gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, dtype=np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def _sqrtm_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, s1, mu2, s2) -> float:
    r1 = _sqrtm_psd(s1)
    cross = np.linalg.eigvalsh(r1 @ s2 @ r1)
    tr_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def frechet_between(a: np.ndarray, b: np.ndarray) -> float:
    return frechet_distance(*gaussian_fit(a), *gaussian_fit(b))
