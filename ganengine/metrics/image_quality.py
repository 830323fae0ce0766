"""Paired-image quality: PSNR, SSIM, L1 and the digit classifier's accuracy on translated images.

All images are (N, C, H, W) in [-1, 1], so the data range L = 2.

PSNR  = 10 log10(L^2 / MSE), per image; identical images have MSE = 0 and are capped at MAX_PSNR_DB (100 dB) so
        means stay finite.
SSIM  Wang, Bovik, Sheikh & Simoncelli 2004, "Image quality assessment: from error visibility to structural
      similarity", eq. 13, with their constants: an 11x11 Gaussian window of sigma 1.5, C1 = (0.01 L)^2,
      C2 = (0.03 L)^2,
        SSIM(x, y) = mean over windows of (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))
      where mu, sigma^2, sigma_xy are Gaussian-weighted local means, variances and covariance. Only windows that fit
      inside the image count ('valid' filtering, as the authors' ssim_index.m; 32 px -> a 22x22 map), averaged over
      the map and the channels: one number per image. No downsampling (the reference code's only at >= 256 px).
      Checked against torchmetrics 1.9.0 (data_range=2, reduction='none'): PSNR equal to 2e-6 dB; its SSIM averages
      the whole map of a reflect-padded image instead of the valid windows, and ssim() of the 5-px reflect-padded
      images equals it to 1e-7 (on 32 px digits the two conventions differ by up to ~0.05). torchmetrics is not a
      dependency: it installs with the pinned torch (+ lightning-utilities, ~9 MB), but importing it costs 2-5 s
      here (it imports torchvision's model zoo), more than these few lines.
accuracy  the bundled digit classifier (ganengine/metrics/classifier.py) on the output, centre-cropped from 32 to
      the classifier's 28, against the source digit's label: the MNIST analogue of pix2pix's FCN-score (Isola et
      al. 2017, section 4.2: "if the generated images are realistic, classifiers trained on real images will be
      able to classify the synthesized image correctly as well").
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

DATA_RANGE = 2.0   # images in [-1, 1]
MAX_PSNR_DB = 100.0


def gaussian_kernel1d(size: int, sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian taps g_i = exp(-(i - c)^2 / (2 sigma^2)) / sum, i = 0..size-1, c = (size - 1) / 2."""
    i = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-i ** 2 / (2 * sigma ** 2))
    return (g / g.sum()).float()  # (size,)


def gaussian_filter(x: torch.Tensor, size: int, sigma: float, padding: int = 0) -> torch.Tensor:
    """Separable Gaussian filter of each channel of (N, C, H, W); padding 0 = 'valid' (H - size + 1)."""
    c = x.shape[1]
    g = gaussian_kernel1d(size, sigma).to(x)
    x = F.conv2d(x, g.view(1, 1, 1, size).expand(c, 1, 1, size), padding=(0, padding), groups=c)  # along W
    return F.conv2d(x, g.view(1, 1, size, 1).expand(c, 1, size, 1), padding=(padding, 0), groups=c)  # along H


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE, max_db: float = MAX_PSNR_DB) -> torch.Tensor:
    """Per-image PSNR in dB (N,): 10 log10(L^2 / mean((x - y)^2)), at most max_db."""
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)  # (N,)
    db = 10 * torch.log10(data_range ** 2 / mse)  # inf where mse == 0
    return db.clamp(max=max_db).float()


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE, window: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Per-image SSIM (N,) of (N, C, H, W) images (H, W >= window); 1 for identical images."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ssim needs two (N, C, H, W) tensors of one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if min(x.shape[-2:]) < window:
        raise ValueError(f"ssim's {window}x{window} window does not fit {tuple(x.shape[-2:])} images")
    x, y = x.double(), y.double()
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_x, mu_y = gaussian_filter(x, window, sigma), gaussian_filter(y, window, sigma)  # (N, C, H-10, W-10)
    var_x = gaussian_filter(x * x, window, sigma) - mu_x ** 2
    var_y = gaussian_filter(y * y, window, sigma) - mu_y ** 2
    cov = gaussian_filter(x * y, window, sigma) - mu_x * mu_y
    s = (2 * mu_x * mu_y + c1) * (2 * cov + c2) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1).float()  # (N,)


def centre_crop(images: torch.Tensor, size: int = 28) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, size, size), the centre: undoes the 28 -> 32 padding of the paired digits."""
    top, left = (images.shape[-2] - size) // 2, (images.shape[-1] - size) // 2
    return images[..., top:top + size, left:left + size]


@torch.no_grad()
def translation_metrics(output: torch.Tensor, target: torch.Tensor, label: torch.Tensor | None = None) -> dict:
    """Means over N pairs: L1 = mean |output - target| (in [-1, 1] units, the pix2pix L1 term), PSNR (dB), SSIM,
    and with labels the classifier's accuracy on the outputs (1-channel digits, 28 or 32 px), overall and per class
    ("class_accuracy": a list over the label values 0..max; None for a class with no pair)."""
    output, target = output.detach().float().cpu(), target.detach().float().cpu()
    out = {"l1": float((output - target).abs().mean()), "psnr": float(psnr(output, target).mean()),
           "ssim": float(ssim(output, target).mean()), "n": len(output)}
    if label is not None:
        from ganengine.metrics.classifier import classify
        probs, _ = classify(centre_crop(output.mean(1, keepdim=True)))
        right, label = (probs.argmax(1) == label.cpu()).float(), label.cpu()
        out["accuracy"] = float(right.mean())
        out["class_accuracy"] = [float(right[label == c].mean()) if (label == c).any() else None
                                 for c in range(int(label.max()) + 1)]
    return out
