"""Points a visitor draws (GAN Lab's "draw your own" data): a drawing's ink -> an N x 2 point cloud, and its file.

GAN Lab lets a visitor draw a distribution with the mouse and trains on it. Here a drawing is an image (the canvas's
pixels, any of uint8 grey / RGB / RGBA; transparent pixels are paper), and:
  1. ink(p) = 1 - luma(p) on light paper (ITU-R 601 luma, as PIL's "L"); a pixel is drawn where ink >= INK;
  2. n points are drawn uniformly (with replacement, from a seeded generator) among the drawn pixels, each moved by
     U(-1/2, 1/2) of a pixel in x and y (so a stroke is a band of density, not a lattice of pixel centres);
  3. pixel (col, row) maps to data coordinates x = -E + 2E (col + 1/2) / W, y = E - 2E (row + 1/2) / H: the canvas
     spans [-E, E] on both axes (E = EXTENT, shown under the canvas), y upwards.
The points then train through the same path as an uploaded CSV (data "points", RunConfig.points_path): they are
written as CSV text with 9 significant digits, which reads back to the identical float32 values (a float32 needs at
most 9: IEEE 754-2008, section 5.12.2), and read with ganengine.data.points.parse_points. Nothing is unpickled.
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from ganengine.config import ConfigError

EXTENT = 2.0          # the canvas spans [-EXTENT, EXTENT] on both axes
N_DRAWN = 1000        # points drawn from a drawing
INK = 0.25            # a pixel with at least this much ink is drawn
MIN_PIXELS = 20       # fewer drawn pixels than this is not a distribution yet
MAX_SIDE = 2048       # a canvas larger than this is refused (the app's canvas is 360 px)


def ink_mask(image) -> np.ndarray:
    """uint8 (H, W), (H, W, 1|2|3|4) -> bool (H, W): the drawn pixels. ConfigError (one sentence) if unusable."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ConfigError("the drawing must be an 8-bit image")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4):
        raise ConfigError("the drawing must be a grey, RGB or RGBA image")
    h, w = image.shape[:2]
    if not (8 <= h <= MAX_SIDE and 8 <= w <= MAX_SIDE):
        raise ConfigError(f"the drawing must be 8 to {MAX_SIDE} px on each side; it is {w} x {h}")
    x = image.astype(np.float32) / 255                                     # (H, W, C) in [0, 1]
    if x.shape[-1] in (2, 4):                                               # alpha: transparent = white paper
        alpha = x[..., -1:]
        x = x[..., :-1] * alpha + (1 - alpha)
    luma = x @ np.array([0.299, 0.587, 0.114], np.float32) if x.shape[-1] == 3 else x[..., 0]   # (H, W)
    return (1 - luma) >= INK


def drawing_to_points(image, *, n: int = N_DRAWN, seed: int = 0, extent: float = EXTENT) -> np.ndarray:
    """A drawing -> float32 (n, 2) points in [-extent, extent]^2 (module docstring); ConfigError if nearly empty."""
    mask = ink_mask(image)
    rows, cols = np.nonzero(mask)                                           # (P,), (P,) drawn pixels
    if len(rows) < MIN_PIXELS:
        raise ConfigError("the drawing is empty: draw some strokes on the canvas first")
    h, w = mask.shape
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(rows), size=n)                               # uniform over drawn pixels
    jitter = rng.uniform(-0.5, 0.5, size=(n, 2))                            # within the pixel
    col = cols[pick] + 0.5 + jitter[:, 0]
    row = rows[pick] + 0.5 + jitter[:, 1]
    x = -extent + 2 * extent * col / w
    y = extent - 2 * extent * row / h
    return np.stack([x, y], axis=1).astype(np.float32)                      # (n, 2)


def points_csv(points: np.ndarray) -> bytes:
    """float32 (N, 2) -> CSV text "x,y" with a header; 9 significant digits read back to the same float32."""
    pts = np.asarray(points, dtype=np.float32)
    lines = ["x,y"] + [f"{float(a):.9g},{float(b):.9g}" for a, b in pts]
    return ("\n".join(lines) + "\n").encode("ascii")


def write_points_file(points: np.ndarray, folder, stem: str = "drawn") -> Path:
    """Write points as CSV into ``folder``, named by a hash of their bytes (the same drawing, the same file)."""
    data = points_csv(points)
    path = Path(folder) / f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.csv"
    if not path.exists():                 # written whole, then renamed: a second click never reads half a file
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path
