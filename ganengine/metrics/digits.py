"""Quality of generated digits, measured with the shipped classifier (BENCHMARKS.md, "MNIST without Inception").

For N generated images with class probabilities p(y|x) and 128-D classifier features:
  class_histogram  share of the recognisable samples whose top class is c: the mode-collapse meter
  unrecognisable   share of samples the classifier cannot vouch for as any digit: a softmax under UNSURE, or features
                   farther from the real digits than almost all real digits are: squared Mahalanobis distance to the
                   real features' Gaussian over the 99.5th percentile of the held-out real half's (Lee et al. 2018,
                   "A Simple Unified Framework for Detecting Out-of-Distribution Samples"). A softmax alone calls
                   pure noise a confident "8" (93% on uniform noise here); the distance does not.
  classes          how many classes hold at least 1% of the samples (10 when nothing is missing)
  kl_uniform       KL(histogram || uniform over 10) = sum_c h_c log(10 h_c): 0 = balanced, log 10 = one class
  confidence       mean top-class probability: sharp digits score near 1, blurry ones lower
  is_classifier    exp(E_x KL(p(y|x) || p(y))), an Inception-Score analogue (10 at best)
  fd               Frechet distance between Gaussian fits of fake and real features, "FD (classifier features)"
  fd_floor         the same between two disjoint halves of the real digits: the best a sample of this size can do
  precision/recall/density/coverage (optional) in the same features
The real reference is a fixed half (2,500) of the bundled digits; the floor compares it with the other half.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.metrics.classifier import classify
from ganengine.metrics.frechet import frechet_distance, gaussian_fit
from ganengine.metrics.prdc import prdc

_REFERENCE: dict = {}
UNSURE = 0.5            # a top-class probability under this is no digit
OUTLIER_QUANTILE = 0.995


def reference_features() -> dict:
    """Features of the real reference half and the real floor, computed once per process."""
    if not _REFERENCE:
        from ganengine.data.images import load_bundled_mnist, to_unit_range
        images, labels = load_bundled_mnist()
        perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(12345))
        half = len(images) // 2
        a, b = perm[:half], perm[half:]
        x = to_unit_range(images)
        probs_a, feat_a = classify(x[a])
        probs_b, feat_b = classify(x[b])
        fit_a = gaussian_fit(feat_a.numpy())
        precision = np.linalg.inv(fit_a[1] + 1e-6 * np.eye(len(fit_a[0])))
        limit = float(np.quantile(mahalanobis2(feat_b.numpy(), fit_a[0], precision), OUTLIER_QUANTILE))
        _REFERENCE.update(precision=precision, outlier_limit=limit, features=feat_a.numpy(), fit=fit_a, floor=frechet_distance(*gaussian_fit(feat_b.numpy()), *fit_a),
                          real_accuracy=float((probs_a.argmax(1) == labels[a]).float().mean()),
                          real_confidence=float(probs_b.max(1).values.mean()),
                          real_is=inception_score(probs_b), size=half)
    return _REFERENCE


def mahalanobis2(f: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distances (N,) of features f (N, D) to a Gaussian (mean, inverse covariance)."""
    d = f.astype(np.float64) - mean
    return np.einsum("nd,de,ne->n", d, precision, d)


def recognisable(probs: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
    """(N,) bool: the classifier is sure (top probability >= UNSURE) and the features lie where real digits' do."""
    ref = reference_features()
    near = mahalanobis2(feats.numpy(), ref["fit"][0], ref["precision"]) <= ref["outlier_limit"]
    return (probs.max(1).values >= UNSURE) & torch.from_numpy(near)


def inception_score(probs: torch.Tensor) -> float:
    p = probs.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return float(torch.exp((p * (p.log() - marginal.log())).sum(1).mean()))


def to_digit_input(images: torch.Tensor) -> torch.Tensor:
    """Any (N, C, H, W) in [-1, 1] -> (N, 1, 28, 28): channel mean, then resize if needed."""
    x = images.float()
    if x.shape[1] != 1:
        x = x.mean(1, keepdim=True)
    if x.shape[-1] != 28 or x.shape[-2] != 28:
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x


def digit_metrics(images: torch.Tensor, *, with_prdc: bool = False) -> dict:
    """Metrics of generated digit images (N, C, H, W) in [-1, 1]; N of about 2,500 matches the reference."""
    probs, feats = classify(to_digit_input(images))
    ref = reference_features()
    sure = recognisable(probs, feats)
    top = probs.argmax(1)[sure]
    hist = torch.bincount(top, minlength=10).double() / max(len(top), 1)      # over the recognisable samples
    with np.errstate(divide="ignore", invalid="ignore"):
        h = hist.numpy()
        kl = float(np.sum(np.where(h > 0, h * np.log(h * 10), 0.0))) if len(top) else float(np.log(10))
    f = feats.numpy()
    out = {"classes": int((hist >= 0.01).sum()), "class_histogram": [round(float(v), 4) for v in hist],
           "unrecognisable": round(1 - float(sure.double().mean()), 4),
           "kl_uniform": kl, "confidence": float(probs.max(1).values.mean()), "is_classifier": inception_score(probs),
           "fd": frechet_distance(*gaussian_fit(f), *ref["fit"]), "fd_floor": ref["floor"], "n": len(f),
           "real_confidence": ref["real_confidence"], "real_is_classifier": ref["real_is"]}
    if with_prdc:
        out.update(prdc(ref["features"], f))
    return out
