"""Style-transfer quality (the styles family): content kept, style match and diversity across styles, offline.

For the 500 held-out digits x (plain, with labels y) and every style k, out_k = G(x, e_k) (e_k the one-hot code)
is compared with T_k(x), the digit's exact rendering in style k (ganengine.data.styles renders every held-out digit
in every style; training never saw any of them):
  content_k      share of out_k that the bundled digit classifier reads as y (Zhu et al. 2017's FCN-score idea, as
                 ganengine.metrics.cycle); content_real_k: the classifier on T_k(x), the ceiling a perfect G reaches
  style_k        share of out_k whose texture statistics (texture_stats below) are nearest, among the K styles'
                 centroids, to style k's: a nearest-centroid style classifier fitted on the styles' own training
                 renderings (no network, no download); style_real_k: the same classifier on T_k(x) (its ceiling)
  l1_k, ssim_k   mean |out_k - T_k(x)| and SSIM (ganengine.metrics.image_quality) against the exact rendering
  change_k       mean |out_k - x| / mean |T_k(x) - x| (k != plain): 0 when G copies its input, ~1 when it changes
                 it as much as the true style does (the issue's "outputs visibly differ from the inputs")
  diversity      mean over style pairs i < j of mean |out_i - out_j|: how different one digit's K outputs are;
                 diversity_real: the same of the exact renderings
content, style_match, l1, ssim: means over the K styles; change: over the K - 1 non-plain ones.

texture_stats(x), x in [0, 1], per image (6 numbers):
  ink     mean x
  grey    share of inked pixels (x > 0.1) that are mid-grey (0.1 < x < 0.9): soft edges (brush, plain's antialiasing)
  rough   mean |x - box3(x)| / ink (box3: the 3x3 mean): high-frequency energy per unit of ink (stipple, hatching)
  diag    (m(+1, -1) - m(+1, +1)) / m(0, 0), m(di, dj) = mean x(i, j) x(i + di, j + dj): anti-diagonal lines
  alone   share of lit pixels (x > 0.5) with at most one lit 4-neighbour (stipple's isolated dots)
  block   (a - w) / (a + w + 1e-6), w = mean |x(2i) - x(2i + 1)| and a = mean |x(2i + 1) - x(2i + 2)| over rows
          and columns: 1 for a mosaic of 2x2 blocks (pixel), ~0 otherwise
Standardised by the training renderings' mean and std (over all styles) before the nearest-centroid rule.
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from ganengine.metrics.cycle import labels_read
from ganengine.metrics.image_quality import ssim

EPS = 1e-6


@torch.no_grad()
def texture_stats(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> (N, 6): the module docstring's statistics."""
    x = (images.float().cpu() + 1) / 2                                          # (N, 1, H, W) in [0, 1]
    ink = x.mean((1, 2, 3))
    inked = x > 0.1
    grey = ((x < 0.9) & inked).sum((1, 2, 3)) / inked.sum((1, 2, 3)).clamp(min=1)
    rough = (x - F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)).abs().mean((1, 2, 3)) / (ink + EPS)
    m0 = (x * x).mean((1, 2, 3)) + EPS
    m_anti = (x[..., 1:, :-1] * x[..., :-1, 1:]).mean((1, 2, 3))                 # (i + 1, j - 1) pairs
    m_diag = (x[..., 1:, 1:] * x[..., :-1, :-1]).mean((1, 2, 3))                # (i + 1, j + 1) pairs
    lit = (x > 0.5).float()
    nb = F.conv2d(lit, torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])[None, None], padding=1)
    alone = (lit * (nb <= 1)).sum((1, 2, 3)) / lit.sum((1, 2, 3)).clamp(min=1)
    w = (x[..., 0::2, :] - x[..., 1::2, :]).abs().mean((1, 2, 3)) + (x[..., 0::2] - x[..., 1::2]).abs().mean((1, 2, 3))
    a = (x[..., 1:-1:2, :] - x[..., 2::2, :]).abs().mean((1, 2, 3)) + \
        (x[..., 1:-1:2] - x[..., 2::2]).abs().mean((1, 2, 3))
    block = (a - w) / (a + w + EPS)
    return torch.stack([ink, grey, rough, (m_anti - m_diag) / m0, alone, block], 1)   # (N, 6)


class StyleClassifier:
    """Nearest centroid in standardised texture_stats space, fitted on labelled style renderings."""

    def __init__(self, images: torch.Tensor, styles: torch.Tensor, k: int):
        f = texture_stats(images)                                               # (N, 6)
        self.mean, self.std = f.mean(0), f.std(0) + EPS
        z = (f - self.mean) / self.std
        self.centroids = torch.stack([z[styles.cpu() == s].mean(0) for s in range(k)])   # (K, 6)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        z = (texture_stats(images) - self.mean) / self.std                      # (N, 6)
        return torch.cdist(z, self.centroids).argmin(1)                         # (N,) style index


_FITTED: dict = {}


def style_classifier() -> StyleClassifier:
    """The classifier fitted on ganengine.data.styles' 4,500 training renderings (once per process)."""
    if not _FITTED:
        from ganengine.data.images import to_unit_range
        from ganengine.data.styles import STYLES, load_digit_styles
        data = load_digit_styles()
        _FITTED["c"] = StyleClassifier(to_unit_range(data["train_images"]), data["train_style"], len(STYLES))
    return _FITTED["c"]


@torch.no_grad()
def translate_all(G, x: torch.Tensor, code: torch.Tensor, chunk: int = 250) -> torch.Tensor:
    """G(x, code) in chunks on G's device; x (N, 1, H, W), code (N, K) or (K,) for all; the result on the CPU."""
    device = next(G.parameters()).device
    code = code.expand(len(x), -1) if code.ndim == 1 else code
    return torch.cat([G(a.to(device), c.to(device)).float().cpu() for a, c in zip(x.split(chunk), code.split(chunk))])


@torch.no_grad()
def style_report(G, renderings: torch.Tensor, label: torch.Tensor, styles: tuple) -> dict:
    """The module docstring's metrics of G (eval mode) on held-out renderings (N, K, 1, H, W) in [-1, 1] (column 0
    the plain digit, G's input) with labels (N,)."""
    renderings, label = renderings.float().cpu(), label.cpu()
    x, K = renderings[:, 0], len(styles)
    clf = style_classifier()
    outs = [translate_all(G, x, torch.eye(K)[k]) for k in range(K)]             # K x (N, 1, H, W)
    per = {}
    for k, name in enumerate(styles):
        out, target = outs[k], renderings[:, k]
        true_change = (target - x).abs().mean()
        per[name] = {
            "content": float((labels_read(out) == label).float().mean()),
            "content_real": float((labels_read(target) == label).float().mean()),
            "style": float((clf.predict(out) == k).float().mean()),
            "style_real": float((clf.predict(target) == k).float().mean()),
            "l1": float((out - target).abs().mean()), "ssim": float(ssim(out, target).mean()),
            "change": float((out - x).abs().mean() / true_change) if k else None,
        }

    def pairwise(images):
        return float(torch.stack([(images[i] - images[j]).abs().mean()
                                  for i, j in itertools.combinations(range(K), 2)]).mean())

    def mean(key, names=styles):
        return sum(per[n][key] for n in names) / len(names)
    return {"kind": "styles", "n": len(x), "styles": list(styles),
            "content": mean("content"), "content_real": mean("content_real"),
            "style_match": mean("style"), "style_match_real": mean("style_real"),
            "l1": mean("l1"), "ssim": mean("ssim"), "change": mean("change", styles[1:]),
            "diversity": pairwise(outs), "diversity_real": pairwise([renderings[:, k] for k in range(K)]),
            "per_style": per}
