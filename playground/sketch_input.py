"""A visitor's drawing or image file -> a translating G's input (no Gradio, no run here).

A drawing becomes G's input like the training edge maps (ganengine/data/paired.py: white 1-px Canny edges on black,
a 20 px digit centred in 32 px), by ``sketch_to_input``:
  1. grey levels (ITU-R 601 luma, as PIL's "L"); transparent pixels are white paper;
  2. ink = the light strokes of a dark image, or the dark strokes of a light one (inverted; the CLI's rule);
  3. fit=True: the ink's bounding box is scaled to fit MNIST's 20 px box, keeping its aspect ratio, and placed so its
     centre of mass is at the centre (LeCun et al., the MNIST page: "size normalized to fit in a 20x20 pixel box ...
     centered in a 28x28 image by computing the center of mass"; paired.py pads 28 -> 32 around it);
     fit=False: the central square, whole;
  4. resized with antialiasing (area averaging when shrinking), scaled to [-1, 1].
The canvas is CANVAS px for 32 px inputs (8x) and its brush is BRUSH_RADIUS px: Gradio's brush size is a radius, so
a stroke is 9 px wide on the canvas, about 1 px at 32 px, as wide as the edges G was trained on. Measured with an
edges2digits G after 420 steps: 5 px strokes turn into blobs and 15 px ones into faint skeletons, 9 px into digits.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.config import ConfigError
from ganengine.render import image_grid

CANVAS = 256              # the drawing canvas's side in px: 8 x 32; an RGBA PNG of it is at most ~263 KB
BRUSH_RADIUS = 4          # Gradio's Brush.default_size is a radius: 2 * 4 + 1 = 9 px wide, ~1.1 px at 32 px
ERASER_RADIUS = 12
SHOW_SCALE = 8            # 32 px images are shown 8x larger, nearest-neighbour (and pixelated in the browser)
FIT_BOX = 20 / 32         # MNIST's 20 px box, in the 32 px frame (28 px + 2 px padding each side)
INK = 0.25                # a pixel with at least this much ink belongs to the drawing's bounding box
MAX_SKETCH_SIDE = 2048    # a canvas value or API image larger than this is refused (the canvas is 256)
MAX_IMAGE_BYTES = 20 * 2**20   # an uploaded image file (as one image of a zip: ganengine/data/archive.py)
PREVIEW_SIDE = 512        # an uploaded image is shrunk to this once decoded (JPEGs decode at a reduced scale)


# ---- a drawing -> G's input -----------------------------------------------------------------------------------
def sketch_to_input(image, *, side: int = 32, channels: int = 1, fit: bool = True, box: float = FIT_BOX,
                    thick: bool = False) -> torch.Tensor:
    """uint8 (H, W), (H, W, 1|2|3|4) -> float32 (1, channels, side, side) in [-1, 1], white ink on black (see the
    module docstring); box: the digit's box in the frame (FIT_BOX for the 32 px padded digits); thick: widen the
    strokes to a digit's own (~1/8 of its height, MNIST's 2-3 px of 20) before shrinking, for inputs so small that
    a pen line would vanish (SRGAN's 7 px). ValueError with one sentence for anything else, or for an empty drawing."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError("the drawing must be an 8-bit image")
    if image.ndim == 3 and image.shape[-1] in (1, 2, 3, 4):
        pass
    elif image.ndim != 2:
        raise ValueError("the drawing must be a grey, RGB or RGBA image")
    h, w = image.shape[:2]
    if not (1 <= h <= MAX_SKETCH_SIDE and 1 <= w <= MAX_SKETCH_SIDE):
        raise ValueError(f"the drawing must be 1 to {MAX_SKETCH_SIDE} px on each side; it is {w} x {h}")
    x = torch.from_numpy(image.astype(np.float32) / 255)
    x = x[..., None] if x.ndim == 2 else x                                  # (H, W, C) in [0, 1]
    if x.shape[-1] in (2, 4):                                               # alpha: transparent = white paper
        alpha = x[..., -1:]
        x = x[..., :-1] * alpha + (1 - alpha)
    if x.shape[-1] == 3:                                                    # ITU-R 601 luma, as PIL's "L"
        x = x @ torch.tensor([0.299, 0.587, 0.114])
    else:
        x = x[..., 0]
    ink = 1 - x if x.mean() > 0.5 else x                                    # (H, W): dark strokes on paper inverted
    if float(ink.max()) < INK:
        raise ValueError("the drawing is empty: draw a digit")
    ink = ink[None, None]                                                   # (1, 1, H, W)
    if thick:
        ink = _thicken(ink)
    out = _fit_box(ink, side, box) if fit else _whole_square(ink, side)     # (1, 1, side, side) in [0, 1]
    return (out.clamp(0, 1) * 2 - 1).expand(1, channels, side, side).contiguous()


def _resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Antialiased: area averaging when shrinking (a box filter), bilinear when growing."""
    if h <= x.shape[-2] and w <= x.shape[-1]:
        return F.interpolate(x, size=(h, w), mode="area")
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)


def _thicken(ink: torch.Tensor) -> torch.Tensor:
    """Strokes widened by a max filter of ~8% of the ink's larger side (a 9 px pen line in a 200 px digit -> 25 px)."""
    rows = torch.nonzero(ink[0, 0].amax(1) >= INK).squeeze(1)
    cols = torch.nonzero(ink[0, 0].amax(0) >= INK).squeeze(1)
    extent = max(int(rows[-1] - rows[0]), int(cols[-1] - cols[0])) + 1
    k = max(1, round(0.04 * extent)) * 2 + 1                                   # odd
    return F.max_pool2d(ink, k, stride=1, padding=k // 2)


def _fit_box(ink: torch.Tensor, side: int, fit_box: float = FIT_BOX) -> torch.Tensor:
    """The ink's bounding box scaled into a fit_box * side box, its centre of mass at the centre (clamped inside)."""
    rows = torch.nonzero(ink[0, 0].amax(1) >= INK).squeeze(1)
    cols = torch.nonzero(ink[0, 0].amax(0) >= INK).squeeze(1)
    crop = ink[..., int(rows[0]):int(rows[-1]) + 1, int(cols[0]):int(cols[-1]) + 1]   # (1, 1, h, w)
    h, w = crop.shape[-2:]
    box = round(fit_box * side)
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = _resize(crop, nh, nw)[0, 0]                                      # (nh, nw)
    mass = small.sum().clamp(min=1e-6)
    cy = float((small.sum(1) * torch.arange(nh)).sum() / mass) + 0.5         # centre of mass, in pixels
    cx = float((small.sum(0) * torch.arange(nw)).sum() / mass) + 0.5
    top = min(max(round(side / 2 - cy), 0), side - nh)
    left = min(max(round(side / 2 - cx), 0), side - nw)
    out = torch.zeros(1, 1, side, side)
    out[0, 0, top:top + nh, left:left + nw] = small
    return out


def _whole_square(ink: torch.Tensor, side: int) -> torch.Tensor:
    """The central square of the drawing, resized to side x side."""
    h, w = ink.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return _resize(ink[..., top:top + s, left:left + s], side, side)


def editor_image(value):
    """The composite image of a Gradio ImageEditor value ({"background", "layers", "composite"}), or an image given
    directly (the API); None when there is none (a cleared canvas)."""
    if isinstance(value, dict):
        value = value.get("composite")
    if value is None:
        return None
    if not isinstance(value, np.ndarray):
        raise ValueError("the drawing must be an image")
    return value


def read_image_file(path) -> np.ndarray:
    """An image file -> uint8 (H, W) grey, or (H, W, 4) when it has transparency (paper), shrunk to at most
    PREVIEW_SIDE px. ValueError with one sentence if it is missing, over MAX_IMAGE_BYTES, not an image, or over
    ganengine's pixel limit (read from its header first)."""
    from PIL import Image

    from ganengine.data.images import open_image
    if not isinstance(path, (str, Path)) or not str(path):
        raise ValueError("no image file")
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        raise ValueError("the image could not be read") from None
    if size > MAX_IMAGE_BYTES:
        raise ValueError(f"the image is {size / 2**20:.1f} MiB; images are limited to {MAX_IMAGE_BYTES // 2**20} MiB")
    try:
        with open_image(p, name="the image") as img:
            img.draft("L", (PREVIEW_SIDE, PREVIEW_SIDE))              # JPEG: decode at a reduced scale
            img = img.convert("RGBA") if "A" in img.getbands() or "transparency" in img.info else img.convert("L")
            img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BOX)
            return np.asarray(img, dtype=np.uint8)
    except ConfigError as err:
        raise ValueError(str(err)) from None
    except (OSError, ValueError, SyntaxError) as err:      # truncated or corrupt image data
        raise ValueError(f"the image is not readable ({str(err)[:80]})") from None


def picture(x: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) in [-1, 1] -> uint8 (H * SHOW_SCALE, W * SHOW_SCALE, 3)."""
    return image_grid(x.detach().float().cpu().numpy(), nrow=1, pad=0, scale=SHOW_SCALE)
