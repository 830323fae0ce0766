"""Unpaired translation quality (CycleGAN): label preservation, cycle L1, the exact-target error, and how much G
changes its input compared with the true transform. Images (N, 1, H, W) in [-1, 1].

For held-out digits a (domain A) with labels y and b = T(a) (domain B, the exact transform of the same digits):
  label_ab     share of G_AB(a) that the bundled digit classifier reads as y (label preservation, A -> B), the
               analogue of CycleGAN's FCN score (Zhu et al. 2017, section 5.1: an off-the-shelf recogniser on the
               outputs); label_ba: the same for G_BA(b). label_real_a / label_real_b: the classifier on a and on b
               themselves, the ceiling a perfect translation would reach.
  cycle_aba    mean |G_BA(G_AB(a)) - a| (eq. 2's forward term, per pixel); cycle_bab: mean |G_AB(G_BA(b)) - b|
  l1_ab, psnr_ab, ssim_ab   G_AB(a) against the exact target T(a); l1_ba, psnr_ba, ssim_ba: G_BA(b) against a
  identity_ab  mean |G_AB(b) - b|: what G_AB does to an image already in its target domain (the identity loss asks
               for 0); identity_ba: mean |G_BA(a) - a|
  l1_copy      mean |T(a) - a|: the exact-target L1 of a G that copies its input (either way), the baseline of l1_ab
               and l1_ba; a translation is closer to the truth than its own input when l1_ab < l1_copy
  change_ab    mean |G_AB(a) - a| / l1_copy: 0 when G copies its input, ~1 when it changes it as much as the true
               transform does (a check that a high label_ab is not G doing nothing); change_ba likewise.
"""
from __future__ import annotations

import torch

from ganengine.metrics.image_quality import centre_crop, psnr, ssim


@torch.no_grad()
def labels_read(images: torch.Tensor) -> torch.Tensor:
    """The bundled classifier's class (N,) of 32 px digits (centre-cropped to its 28)."""
    from ganengine.metrics.classifier import classify
    probs, _ = classify(centre_crop(images.float().cpu()))
    return probs.argmax(1)


@torch.no_grad()
def apply(G, x: torch.Tensor, chunk: int = 250) -> torch.Tensor:
    """G on x in chunks, on G's device; the result on the CPU."""
    device = next(G.parameters()).device
    return torch.cat([G(c.to(device)).float().cpu() for c in x.split(chunk)])


@torch.no_grad()
def cycle_report(G_AB, G_BA, a: torch.Tensor, b: torch.Tensor, label: torch.Tensor) -> dict:
    """The module docstring's metrics of two generators (eval mode) on held-out (a, b = T(a), label)."""
    a, b, label = a.float().cpu(), b.float().cpu(), label.cpu()
    fake_b, fake_a = apply(G_AB, a), apply(G_BA, b)                # (N, 1, 32, 32) each
    rec_a, rec_b = apply(G_BA, fake_b), apply(G_AB, fake_a)
    true_change = (b - a).abs().mean()                             # the transform's own mean |T(a) - a|

    def share(images):
        return float((labels_read(images) == label).float().mean())
    return {
        "kind": "cycle", "n": len(a),
        "label_ab": share(fake_b), "label_ba": share(fake_a),
        "label_real_a": share(a), "label_real_b": share(b),
        "cycle_aba": float((rec_a - a).abs().mean()), "cycle_bab": float((rec_b - b).abs().mean()),
        "l1_ab": float((fake_b - b).abs().mean()), "psnr_ab": float(psnr(fake_b, b).mean()),
        "ssim_ab": float(ssim(fake_b, b).mean()),
        "l1_ba": float((fake_a - a).abs().mean()), "psnr_ba": float(psnr(fake_a, a).mean()),
        "ssim_ba": float(ssim(fake_a, a).mean()),
        "identity_ab": float((apply(G_AB, b) - b).abs().mean()), "identity_ba": float((apply(G_BA, a) - a).abs().mean()),
        "l1_copy": float(true_change),
        "change_ab": float((fake_b - a).abs().mean() / true_change),
        "change_ba": float((fake_a - b).abs().mean() / true_change),
    }
