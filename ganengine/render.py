"""Pure numpy rendering: image grids, point scatters and PNG/GIF encoding. No torch, no UI toolkit.

Colours follow GAN Lab: real green rgb(0,136,55), fake purple rgb(163,62,189).
"""
from __future__ import annotations

import io
import math

import numpy as np

REAL_RGB = (0, 136, 55)
FAKE_RGB = (163, 62, 189)


def image_grid(images: np.ndarray, *, nrow: int = 8, pad: int = 2, scale: int = 1) -> np.ndarray:
    """(N, C, H, W) floats in [-1, 1] -> (rows, cols, 3) uint8 grid with ``pad`` black pixels between tiles."""
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    tiles = np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)  # (N, C, H, W)
    if c == 1:
        tiles = np.repeat(tiles, 3, axis=1)
    tiles = tiles.transpose(0, 2, 3, 1)  # (N, H, W, 3)
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
        h, w = h * scale, w * scale
    ncol = min(nrow, n)
    nrows = math.ceil(n / ncol)
    grid = np.zeros((nrows * (h + pad) + pad, ncol * (w + pad) + pad, 3), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y:y + h, x:x + w] = tiles[i]
    return grid


def scatter_image(real: np.ndarray | None, fake: np.ndarray, bounds: tuple, *, size: int = 400) -> np.ndarray:
    """Real (green) and fake (purple) 2-D points drawn as 3x3 dots on white: (size, size, 3) uint8."""
    xmin, xmax, ymin, ymax = bounds
    img = np.full((size, size, 3), 255, dtype=np.uint8)
    for pts, colour in ((real, REAL_RGB), (fake, FAKE_RGB)):
        if pts is None or not len(pts):
            continue
        pts = np.asarray(pts, dtype=np.float64)
        col = np.round((pts[:, 0] - xmin) / (xmax - xmin) * (size - 1)).astype(np.int64)
        row = np.round((ymax - pts[:, 1]) / (ymax - ymin) * (size - 1)).astype(np.int64)
        ok = np.isfinite(pts).all(1) & (col >= 1) & (col < size - 1) & (row >= 1) & (row < size - 1)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                img[row[ok] + dr, col[ok] + dc] = colour
    return img


def field_axes(bounds: tuple, rows: int, *, widen: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """The x and y coordinates of D's decision heatmap: ``rows`` over y's bounds, as many per unit over x and
    ``widen`` times x's span, centred. The page draws the data space with equal units on both axes, so a plot wider
    than tall shows more x than the data's bounds: the wider field shades it (up to a ``widen``:1 plot) instead of
    leaving bare margins beside it. Returns (xs (cols,), ys (rows,)) float32."""
    xmin, xmax, ymin, ymax = bounds
    ys = np.linspace(ymin, ymax, rows, dtype=np.float32)
    half, mid = widen * (xmax - xmin) / 2, (xmin + xmax) / 2
    cols = max(rows, round(rows * widen * (xmax - xmin) / max(ymax - ymin, 1e-12)))
    xs = np.linspace(mid - half, mid + half, cols, dtype=np.float32)
    return xs, ys


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=False, compress_level=3)
    return buf.getvalue()


def gif_bytes(frames: list, *, duration_ms: int = 200, max_side: int = 512) -> bytes:
    """Frames (H, W, 3) uint8 -> an animated, looping GIF; frames larger than max_side are shrunk."""
    from PIL import Image
    images = []
    for f in frames:
        im = Image.fromarray(f)
        if max(im.size) > max_side:
            ratio = max_side / max(im.size)
            im = im.resize((max(1, round(im.width * ratio)), max(1, round(im.height * ratio))), Image.Resampling.NEAREST)
        images.append(im.convert("P", palette=Image.Palette.ADAPTIVE))
    if not images:
        raise ValueError("no frames to write")
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return buf.getvalue()
