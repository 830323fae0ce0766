"""Sliced Wasserstein distance between image sets over Laplacian pyramid levels (Karras et al. 2018, section 5 and
appendix D; tkarras/progressive_growing_of_gans metrics/sliced_wasserstein.py). Needs no pretrained network.

For each image set:
  1. a Laplacian pyramid (Burt & Adelson 1983): L_0 = x - up(down(x)), L_1 = down(x) - up(down(down(x))), ...,
     down = blur with the 5x5 binomial kernel [1 4 6 4 1]^T [1 4 6 4 1] / 256 then keep every other pixel
     (cv2.pyrDown), up = zero-insert then blur with 4x the kernel (cv2.pyrUp); mirror padding. The last level is
     the low-pass image itself. Levels are kept while their side is >= 16 px (the reference code's rule): at 32 px,
     the 32 px band and the 16 px low-pass.
  2. descriptors: NHOODS_PER_IMAGE random 7x7 neighbourhoods per image and level (C x 7 x 7 values each), each
     channel normalised to mean 0 and std 1 over the set's descriptors (the reference normalises each set by its
     own statistics).
  3. SWD between the real and fake descriptor sets: project both on DIRS_PER_REPEAT random unit directions, sort
     the projections, average |sorted_real - sorted_fake| over descriptors and directions; DIR_REPEATS repeats are
     averaged. Reported x 1e3, as the paper's tables; lower is better, and a real-vs-real floor shows the best a
     sample of this size can do.
The 32 px level measures fine detail (edges, stroke texture), the 16 px level the coarse shapes. Images are mapped
from [-1, 1] to [0, 255] first, as the reference code works on uint8 images. All random draws come from one
numpy Generator seeded by the caller, so a measurement is reproducible.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

NHOOD = 7
NHOODS_PER_IMAGE = 16      # the paper: 128 (and 16,384 images); 16 x 1,000 images keeps one to ~2 s on a CPU
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_SIDE = 16

_KERNEL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
_KERNEL = (_KERNEL[:, None] * _KERNEL[None, :]) / 256.0                            # (5, 5), sums to 1


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    c = x.shape[1]
    k = (_KERNEL * gain).to(x)[None, None].repeat(c, 1, 1, 1)                        # (C, 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=c)           # reflect = scipy's "mirror"


def pyr_down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[..., ::2, ::2]                                                  # (B, C, H/2, W/2)


def pyr_up(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    up = x.new_zeros(b, c, 2 * h, 2 * w)
    up[..., ::2, ::2] = x
    return _blur(up, 4.0)                                                           # (B, C, 2H, 2W)


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list:
    """[band 0 (finest, full side), band 1, ..., low-pass (side / 2^(levels - 1))] of x (B, C, H, W)."""
    pyramid = [x]
    for _ in range(1, levels):
        pyramid.append(pyr_down(pyramid[-1]))
        pyramid[-2] = pyramid[-2] - pyr_up(pyramid[-1])
    return pyramid


def pyramid_sides(side: int) -> list:
    """The sides of the measured levels: side, side/2, ... while >= MIN_SIDE (32 -> [32, 16])."""
    sides = []
    while side >= MIN_SIDE:
        sides.append(side)
        side //= 2
    return sides


def _descriptors(level: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    """NHOODS_PER_IMAGE random 7x7 neighbourhoods of each image, normalised per channel: (N * n, C * 49)."""
    b, c, h, w = level.shape
    half = NHOOD // 2
    n = b * NHOODS_PER_IMAGE
    img = np.repeat(np.arange(b), NHOODS_PER_IMAGE)                                  # (n,)
    ys = rng.integers(half, h - half, n)
    xs = rng.integers(half, w - half, n)
    off = np.arange(-half, half + 1)
    arr = level.numpy()
    d = arr[img[:, None, None, None], np.arange(c)[None, :, None, None],
            (ys[:, None] + off)[:, None, :, None], (xs[:, None] + off)[:, None, None, :]]  # (n, C, 7, 7)
    d = d - d.mean(axis=(0, 2, 3), keepdims=True)
    d = d / (d.std(axis=(0, 2, 3), keepdims=True) + 1e-8)
    return d.reshape(n, -1).astype(np.float32)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Mean over DIR_REPEATS x DIRS_PER_REPEAT random unit directions of the 1-D Wasserstein-1 distance between the
    projections of two equal-size descriptor sets (N, D): sorted, differenced, averaged."""
    results = []
    for _ in range(DIR_REPEATS):
        dirs = rng.standard_normal((a.shape[1], DIRS_PER_REPEAT)).astype(np.float32)
        dirs /= np.sqrt((dirs ** 2).sum(axis=0, keepdims=True))                    # (D, dirs) unit columns
        pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)              # (N, dirs) each
        results.append(float(np.abs(pa - pb).mean()))
    return float(np.mean(results))


def pyramid_descriptors(images: torch.Tensor, rng: np.random.Generator) -> list:
    """Descriptor sets of each measured level of images (N, C, H, W) in [-1, 1], finest first."""
    x = (images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5                     # [0, 255], as uint8 images
    sides = pyramid_sides(x.shape[-1])
    return [_descriptors(level, rng) for level in laplacian_pyramid(x, len(sides))]


def swd(real: torch.Tensor, fake: torch.Tensor, seed: int = 0) -> dict:
    """{"swd_<side>": SWD x 1e3 per level, "swd": their mean} of two image sets of the same size and shape."""
    if real.shape != fake.shape:
        raise ValueError(f"SWD needs two image sets of one shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    rng = np.random.default_rng(seed)
    sides = pyramid_sides(real.shape[-1])
    d_real, d_fake = pyramid_descriptors(real, rng), pyramid_descriptors(fake, rng)
    out = {f"swd_{s}": 1e3 * sliced_wasserstein(a, b, rng) for s, a, b in zip(sides, d_real, d_fake)}
    out["swd"] = float(np.mean(list(out.values())))
    return out
