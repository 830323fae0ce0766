"""Quality of any 2-D data (curves, moons, drawn points): a distance between real and fake samples, with its floor.

Energy distance (Szekely & Rizzo 2013, "Energy statistics: a class of statistics based on distances", eq. 2.1; the
distance the Cramer GAN trains with, Bellemare et al. 2017, eq. 3):
  E(P, Q) = 2 E|X - Y| - E|X - X'| - E|Y - Y'|,   X, X' ~ P (real), Y, Y' ~ Q (fake), |.| Euclidean,
zero exactly when P = Q and positive otherwise (for distributions with a finite mean). Estimated here by the
V-statistic over all pairs of n real and n fake points (the squared MMD with the distance kernel), which is >= 0 and
biased upward by O(1/n); so the same estimator between two independent real samples of the same size is reported as
the floor: what a perfect G would score. A collapsed G (all fakes at one point) scores far above it.
Beside it, for shape: precision (share of fakes inside a real point's 3-NN ball, Kynkaanniemi et al. 2019) and
coverage (share of reals whose 5-NN ball holds a fake, Naeem et al. 2020), as ganengine.metrics.prdc computes them; and the 2-D
Frechet distance the engine reported before (Gaussian fit only: blind to a curve's shape).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ganengine.metrics.frechet import frechet_between
from ganengine.metrics.prdc import _pairwise

N_QUALITY = 2000   # real and fake points per measurement
K_PRECISION, K_COVERAGE = 3, 5   # the neighbourhood sizes of Kynkaanniemi et al. 2019 and Naeem et al. 2020


def energy_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """The V-statistic of E(P, Q) (module docstring) between real (N, 2) and fake (M, 2) points."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    return _energy(_pairwise(real, fake).mean(), _pairwise(real, real).mean(), _pairwise(fake, fake).mean())


def _energy(rf: float, rr: float, ff: float) -> float:
    return max(float(2 * rf - rr - ff), 0.0)   # >= 0 in exact arithmetic; clip rounding


@lru_cache(maxsize=8)
def _floor(real: bytes, other: bytes) -> float:
    """The real-vs-real energy distance, once per pair of reference samples (a run's stay fixed)."""
    a, b = (np.frombuffer(x, np.float64).reshape(-1, 2) for x in (real, other))
    return energy_distance(a, b)


def points_metrics(fake: np.ndarray, real: np.ndarray, real_floor: np.ndarray) -> dict:
    """fake, real, real_floor (n, 2): energy distance and its real-vs-real floor, precision, coverage, 2-D FD."""
    fake = np.asarray(fake, np.float64)
    real, real_floor = np.asarray(real, np.float64), np.asarray(real_floor, np.float64)
    finite = np.isfinite(fake).all(1)
    if not finite.all():   # a diverged G: its non-finite points count as far away, never as a crash
        fake = np.where(finite[:, None], fake, 1e6)
    d_rf, d_rr, d_ff = _pairwise(real, fake), _pairwise(real, real), _pairwise(fake, fake)   # (n, n) each
    radius = np.partition(d_rr, (K_PRECISION, K_COVERAGE), axis=1)    # column 0 is the point itself
    r_pr, r_cov = radius[:, K_PRECISION], radius[:, K_COVERAGE]        # each real point's k-NN radius
    return {"energy": _energy(d_rf.mean(), d_rr.mean(), d_ff.mean()),
            "energy_floor": _floor(np.ascontiguousarray(real).tobytes(), np.ascontiguousarray(real_floor).tobytes()),
            "precision": float((d_rf < r_pr[:, None]).any(0).mean()),   # fakes inside some real ball
            "coverage": float((d_rf < r_cov[:, None]).any(1).mean()),   # reals whose ball holds a fake
            "fd_2d": frechet_between(fake, real)}
