"""The progressive GAN's data (ganengine.families.progan), 32 x 32 px, in [-1, 1]:

- mnist32: the 5,000 bundled MNIST digits padded 28 -> 32 with 2 px of black each side (ganengine.data.paired's
  pad_digits), as Karras et al. 2018 pad MNIST to 32 (section 6.3); labels kept for the metrics only.
- faces: the seed list's "human faces". torchvision's aligned CelebA (Liu et al. 2015) when it is on disk under
  data_root/celeba/img_align_celeba or can be downloaded (config.download), each photo centre-cropped and resized to
  32 px as it is read (ganengine.data.images.FolderImageSource); otherwise, offline, PROCEDURAL_FACES faces drawn
  in code by procedural_faces below. The DataSpec's title says which one a run trains on.
"""
from __future__ import annotations

import numpy as np
import torch

from ganengine.data.images import (DataUnavailable, FolderImageSource, TensorImageSource, celeba_folder,
                                   list_image_folder, load_bundled_mnist, DIGITS)
from ganengine.data.paired import pad_digits
from ganengine.data.spec import DataSpec
from ganengine.seeds import DATA, stream

SIDE = 32
PROCEDURAL_FACES = 5000
FACE_SEED = 2018        # the procedural face set is the same for every run (not a run's seed)
SUPERSAMPLE = 2         # faces are drawn at 64 px and area-averaged to 32 (anti-aliased edges)

# Skin tones from light to deep (sRGB), the hair colours (black, browns, blond, auburn, grey), background hues.
SKIN = np.array([[255, 224, 196], [241, 194, 160], [224, 172, 130], [198, 134, 90], [161, 102, 64], [112, 70, 44],
                 [80, 51, 34]], np.float32) / 255
HAIR = np.array([[20, 16, 14], [60, 38, 24], [101, 67, 33], [150, 110, 60], [222, 190, 120], [145, 60, 30],
                 [170, 170, 170]], np.float32) / 255


def procedural_faces(n: int = PROCEDURAL_FACES, seed: int = FACE_SEED, side: int = SIDE) -> torch.Tensor:
    """n faces drawn in code: uint8 (n, 3, side, side). Each face is, back to front: a background of one random
    muted colour with a vertical gradient; shoulders (a wide ellipse of a random shirt colour at the bottom); hair
    (an ellipse behind the head's top, longer on some faces); the head, an ellipse of a skin tone picked from 7
    (light to deep) with a random size; two eyes (white ellipses with dark irises that look a little to one side),
    eyebrows in the hair colour, a nose (a darker skin stroke) and a mouth (a red-brown arc, smiling or neutral).
    Pose: every part is placed in head coordinates that are rolled by up to +-15 degrees and shifted, and the
    features slide sideways by a yaw of up to +-0.25 of the head's half-width (a turned head). Drawn at
    SUPERSAMPLE x the side and area-averaged down. The same seed gives the same faces on every machine (numpy's
    default_rng)."""
    rng = np.random.default_rng(seed)
    out = [_draw_faces(rng, min(500, n - i), side) for i in range(0, n, 500)]
    return torch.from_numpy(np.concatenate(out))


def _draw_faces(rng, n: int, side: int) -> np.ndarray:
    s = side * SUPERSAMPLE
    grid = (np.arange(s, dtype=np.float32) + 0.5) / s * 2 - 1                      # pixel centres in [-1, 1]
    X, Y = grid[None, None, :], grid[None, :, None]                                # (1, 1, s), (1, s, 1)

    def u(lo, hi):                                                                 # one value per face (n, 1, 1)
        return rng.uniform(lo, hi, (n, 1, 1)).astype(np.float32)

    def colour(table, jitter):
        c = table[rng.integers(len(table), size=n)] + rng.normal(0, jitter, (n, 3)).astype(np.float32)
        return np.clip(c, 0, 1)[:, :, None, None]                                  # (n, 3, 1, 1)

    bg, shirt, hair, skin = colour(rng.uniform(0.2, 0.8, (12, 3)).astype(np.float32), 0.05), \
        colour(rng.uniform(0.1, 0.9, (12, 3)).astype(np.float32), 0.05), colour(HAIR, 0.03), colour(SKIN, 0.03)
    img = bg * (1.0 - 0.25 * (Y[:, None] + 1) / 2)                                 # (n, 3, s, s) gradient backdrop
    cx, cy, roll = u(-0.12, 0.12), u(-0.08, 0.08), u(-0.26, 0.26)                  # head centre and roll (radians)
    hw, hh, yaw = u(0.42, 0.55), u(0.55, 0.68), u(-0.25, 0.25)                    # half-width, half-height, yaw
    cos, sin = np.cos(roll), np.sin(roll)
    hx = cos * (X - cx) + sin * (Y - cy)                                           # head coordinates (n, s, s)
    hy = -sin * (X - cx) + cos * (Y - cy)

    def paint(mask, c):
        nonlocal img
        img = np.where(mask[:, None], c, img)

    def ellipse(x0, y0, rx, ry, xx=hx, yy=hy):
        return ((xx - x0) / rx) ** 2 + ((yy - y0) / ry) ** 2 <= 1

    paint(ellipse(0, 1.25, u(0.8, 1.0), u(0.45, 0.6), X - cx, Y - cy), shirt)     # shoulders, not rolled
    long_hair = u(0, 1) < 0.4
    paint(ellipse(0, np.where(long_hair, 0.05, -0.22), hw * 1.12, np.where(long_hair, hh * 1.2, hh * 0.85)), hair)
    paint(ellipse(0, 0, hw, hh), skin)                                             # the head
    fx = yaw * hw                                                                  # features slide with the yaw
    eye_y, eye_dx = u(-0.2, -0.08), hw * u(0.38, 0.48)
    look = u(-0.04, 0.04)
    for side_sign in (-1, 1):
        ex = fx + side_sign * eye_dx
        paint(ellipse(ex, eye_y - 0.16, 0.16, 0.035), hair * 0.8)                  # eyebrow
        paint(ellipse(ex, eye_y, 0.11, 0.06), np.float32(0.95))                     # white of the eye
        paint(ellipse(ex + look, eye_y, 0.05, 0.055), colour(HAIR[:4], 0.05) * 0.7)  # iris
    paint(ellipse(fx * 1.1, 0.1, 0.04, 0.14), skin * 0.82)                         # nose
    mouth_y, smile = u(0.3, 0.4), u(-0.05, 0.25)
    mx = (hx - fx) / (hw * 0.45)                                                   # -1..1 across the mouth
    arc = mouth_y + smile * (1 - mx ** 2) - smile                                  # a parabola: smiling if > 0
    paint((np.abs(mx) <= 1) & (np.abs(hy - arc) <= 0.045), np.float32([0.6, 0.2, 0.2])[None, :, None, None])
    img = img.reshape(n, 3, side, SUPERSAMPLE, side, SUPERSAMPLE).mean(axis=(3, 5))  # area-average to side
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


_CACHE: dict = {}


def build_progressive_source(config, device):
    """The BatchSource of a progan run's data (the module docstring): mnist32 or faces, 32 px."""
    seed = stream(config.seed, DATA)
    if config.data == "mnist32":
        if "mnist32" not in _CACHE:
            images, labels = load_bundled_mnist()                                 # (5000, 1, 28, 28) uint8
            _CACHE["mnist32"] = (pad_digits(images, SIDE), labels)                 # (5000, 1, 32, 32)
        images, labels = _CACHE["mnist32"]
        spec = DataSpec(name="mnist32", title="MNIST digits padded to 32 px (5,000 bundled)", kind="image",
                        shape=(1, SIDE, SIDE), num_classes=10, class_names=DIGITS, size=len(images),
                        source="assets/mnist5k.npz, padded 28 -> 32 (Karras et al. 2018, section 6.3)")
        return TensorImageSource(spec=spec, images=images, labels=labels, seed=seed, device=device)
    try:
        folder = celeba_folder(config.data_root, config.download)
    except DataUnavailable:
        folder = None
    if folder is not None:
        files, _, _ = list_image_folder(folder)
        spec = DataSpec(name="faces", title="CelebA faces, 32 px (torchvision)", kind="image", shape=(3, SIDE, SIDE),
                        size=len(files), source=str(folder))
        return FolderImageSource(spec=spec, files=files, labels=[0] * len(files), seed=seed, device=device)
    if "faces" not in _CACHE:
        _CACHE["faces"] = procedural_faces()
    images = _CACHE["faces"]
    spec = DataSpec(name="faces", title=f"Procedural faces made in code, 32 px ({len(images):,}; CelebA not on disk)",
                    kind="image", shape=(3, SIDE, SIDE), size=len(images),
                    source="ganengine/data/faces.py procedural_faces (offline stand-in for CelebA)")
    return TensorImageSource(spec=spec, images=images, labels=torch.zeros(len(images), dtype=torch.int64), seed=seed,
                             device=device)
