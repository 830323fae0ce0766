"""Super-resolution quality: PSNR, SSIM, the digit classifier's accuracy and edge strength, of G's outputs and of
bicubic upscaling (the baseline every SR paper reports; Ledig et al. 2017, Table 2).

PSNR, SSIM and accuracy are ganengine.metrics.image_quality's translation_metrics (images in [-1, 1]).
bicubic  torch's bicubic interpolation (Keys 1981, a = -0.75; align_corners=False, the half-pixel convention of
         image resizers), clamped to [-1, 1].
sharpness  edge strength relative to the real digits: mean |grad I_SR| / mean |grad I_HR| over the held-out set,
         |grad| the Sobel gradient magnitude (the Tenengrad focus measure, Krotkov 1988): 1 = as sharp as the real
         digits, below 1 = blurrier. An MSE-trained G averages the plausible sharp answers and scores low; the
         adversarial term pushes it back up while PSNR falls (Blau & Michaeli 2018, "The Perception-Distortion
         Tradeoff"; Ledig et al. 2017, section 3.4: SRGAN's PSNR is below SRResNet's, its MOS far above).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ganengine.metrics.image_quality import translation_metrics

_SOBEL = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).div(4)


def bicubic(lr: torch.Tensor, factor: int) -> torch.Tensor:
    """(N, C, h, w) in [-1, 1] -> (N, C, r h, r w) bicubic upscaling, clamped to [-1, 1]."""
    return F.interpolate(lr.float(), scale_factor=factor, mode="bicubic", align_corners=False).clamp_(-1, 1)


def edge_strength(images: torch.Tensor) -> torch.Tensor:
    """Mean Sobel gradient magnitude of (N, C, H, W) images (channel mean first): one number."""
    x = images.float().mean(1, keepdim=True)                                   # (N, 1, H, W)
    k = _SOBEL.to(x)[None, None]
    gx, gy = F.conv2d(x, k, padding=1), F.conv2d(x, k.transpose(-1, -2), padding=1)
    return torch.hypot(gx, gy).mean()


@torch.no_grad()
def upscale(G, lr: torch.Tensor, chunk: int = 250) -> torch.Tensor:
    """G's outputs for low-res inputs (N, C, h, w), in chunks, on the CPU, clamped to [-1, 1] (the SRResNet's
    output is linear: ganengine.models.srresnet)."""
    device = next(G.parameters()).device
    return torch.cat([G(part.to(device)).float().cpu().clamp_(-1, 1) for part in lr.split(chunk)])


@torch.no_grad()
def sr_metrics(output: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> dict:
    """PSNR, SSIM, L1, accuracy (overall and per class) and sharpness of outputs against the HR targets."""
    out = translation_metrics(output, target, label)
    out["sharpness"] = float(edge_strength(output) / edge_strength(target))
    return out


def bicubic_report(lr: torch.Tensor, hr: torch.Tensor, label: torch.Tensor, factor: int) -> dict:
    """The baseline's numbers, under bicubic_* names (constant for a dataset: compute once)."""
    m = sr_metrics(bicubic(lr, factor), hr, label)
    return {f"bicubic_{k}": m[k] for k in ("psnr", "ssim", "accuracy", "sharpness")}


def sr_report(G, lr: torch.Tensor, hr: torch.Tensor, label: torch.Tensor, factor: int, baseline=None) -> dict:
    """{"kind": "superres", G's psnr, ssim, l1, accuracy, class_accuracy, sharpness, n, and bicubic_psnr,
    bicubic_ssim, bicubic_accuracy, bicubic_sharpness} on held-out (LR, HR, label) triples; baseline: a
    bicubic_report already computed."""
    from ganengine.families.base import eval_mode
    with eval_mode(G):
        out = upscale(G, lr)
    return {"kind": "superres", **sr_metrics(out, hr.cpu(), label.cpu()),
            **(baseline or bicubic_report(lr.cpu(), hr.cpu(), label.cpu(), factor))}
