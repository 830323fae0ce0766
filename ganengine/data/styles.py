"""Digit styles for style transfer, made offline from the 5,000 bundled MNIST digits: the same digits re-rendered in
a few procedural "styles" made in code, 1 channel, padded 28 -> 32 as ganengine.data.paired (so every style of every
digit is known exactly).

With d the padded digit in [0, 1], thick = the grey-level dilation of d by the 3x3 cross (ganengine.data.unpaired's
dilate: a stroke grows by ~1 px a side) and S = {thick > 0.5} its binary stroke mask:
  plain     d itself
  pixel     a mosaic: the mean of each 2x2 block of d, lit (1) where it exceeds PIXEL_THRESHOLD, else 0
  hatched   S filled with anti-diagonal lines: pixel (i, j) lit where (i + j) mod 3 != 2 (lines 2 px wide, period 3)
  stipple   S as random dots: each pixel of S lit with probability STIPPLE_P, from one fixed draw (numpy
            default_rng(STIPPLE_SEED), a (5000, 32, 32) uniform field; digit k's dots are slice k, so a digit's
            stipple never changes between runs or processes)
  brush     a soft, thick brush: thick blurred by a Gaussian of sigma BRUSH_SIGMA, x BRUSH_GAIN, clipped to [0, 1]
Each is quantised to uint8. None is a per-pixel function of d (each looks at neighbours, stipple at a random field).
The styles were chosen so that the bundled classifier still reads their exact renderings of the held-out digits
(the ceiling of the "content kept" metric): plain 97.8%, pixel 96.0%, hatched 90.4%, stipple 86.2%, brush 92.4%.
Measured and dropped: an outline (the thick stroke minus its erosion, hollow) read 28-30%; stipple at p 0.6, 68%;
hatching on a twice-dilated stroke, 63%; the classifier was trained on filled strokes.

Split (unpaired, as CycleGAN's domains in ganengine.data.unpaired): the fixed 500 held-out digits of paired.py
(50 per class, never seen by the bundled classifier, never trained on) are rendered in every style, so a translation
of a held-out plain digit into style s can be compared with its exact rendering in s. The other 4,500 digits are
split per class into len(STYLES) disjoint parts (a numpy default_rng(PART_SEED) permutation of each class, dealt
round-robin), and part k is rendered only in style k: no digit appears in two styles during training (900 digits
per style, 90 per class). Training batches walk a seeded permutation of those 4,500 (image, style) examples
(ganengine.data.order.EpochOrder); get_state/set_state replay them exactly.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.config import ConfigError
from ganengine.data.images import load_bundled_mnist, to_unit_range
from ganengine.data.order import EpochOrder
from ganengine.data.paired import SIDE, held_out_indices, pad_digits
from ganengine.data.spec import DataSpec
from ganengine.data.unpaired import dilate
from ganengine.metrics.image_quality import gaussian_filter

TASK = "digit-styles"
STYLES = ("plain", "pixel", "hatched", "stipple", "brush")
PIXEL_THRESHOLD = 0.4  # a 2x2 block of the mosaic is lit where its mean ink exceeds this
STIPPLE_P = 0.85     # share of the stroke's pixels a stipple dot lights
STIPPLE_SEED = 7     # the fixed dot field (not a run's seed: every run and checkpoint shares it)
BRUSH_SIGMA, BRUSH_GAIN = 0.8, 1.4
PART_SEED = 2        # the fixed deal of the training digits to the styles


def render(style: str, digits: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1, 32, 32) padded digits -> uint8 (N, 1, 32, 32) in the style; index (N,): the digits' rows in the
    bundled set (the stipple's dot field is indexed by them)."""
    d = digits.float() / 255                                                   # (N, 1, 32, 32) in [0, 1]
    thick = dilate(digits).float() / 255
    S = thick > 0.5                                                            # the thick stroke's mask
    if style == "plain":
        out = d
    elif style == "pixel":
        blocks = F.avg_pool2d(d, 2)                                            # (N, 1, 16, 16) block means
        out = F.interpolate((blocks > PIXEL_THRESHOLD).float(), scale_factor=2, mode="nearest")  # (N, 1, 32, 32)
    elif style == "hatched":
        i, j = torch.meshgrid(torch.arange(SIDE), torch.arange(SIDE), indexing="ij")
        out = (S & ((i + j) % 3 != 2)).float()                                 # (32, 32) lines broadcast
    elif style == "stipple":
        field = torch.from_numpy(_dot_field()[index.numpy()])[:, None]         # (N, 1, 32, 32) uniform [0, 1)
        out = (S & (field < STIPPLE_P)).float()
    elif style == "brush":
        out = (gaussian_filter(thick, 7, BRUSH_SIGMA, padding=3) * BRUSH_GAIN).clamp(0, 1)
    else:
        raise ConfigError(f"unknown style {style!r}; styles: {', '.join(STYLES)}")
    return (out * 255).round().to(torch.uint8)


_FIELD: list = []


def _dot_field() -> np.ndarray:
    if not _FIELD:
        _FIELD.append(np.random.default_rng(STIPPLE_SEED).random((5000, SIDE, SIDE), dtype=np.float32))
    return _FIELD[0]


def deal_parts(labels: np.ndarray, train: np.ndarray, k: int = len(STYLES), seed: int = PART_SEED) -> list:
    """k disjoint sorted index arrays covering ``train``: per class a permutation (one default_rng(seed), class
    after class), dealt round-robin to the k parts (so each part has the classes in MNIST's proportions)."""
    rng = np.random.default_rng(seed)
    parts = [[] for _ in range(k)]
    for c in range(10):
        mine = rng.permutation(train[labels[train] == c])
        for p in range(k):
            parts[p].append(mine[p::k])
    return [np.sort(np.concatenate(p)) for p in parts]


_CACHE: dict = {}


def load_digit_styles() -> dict:
    """Made once per process: uint8 'train_images' (4500, 1, 32, 32) (digit of part k in style k), int64
    'train_style', 'train_label', 'train_index' (its row in the bundled set) (4500,); uint8 'test_images'
    (500, K, 1, 32, 32): every held-out digit in every style; int64 'test_label', 'test_index' (500,). Shared
    tensors: index them rather than writing into them."""
    if not _CACHE:
        images, labels = load_bundled_mnist()                                  # (5000, 1, 28, 28) uint8, (5000,)
        digits = pad_digits(images)                                            # (5000, 1, 32, 32)
        test = held_out_indices(labels.numpy())
        train = np.setdiff1d(np.arange(len(labels)), test)
        parts = deal_parts(labels.numpy(), train)
        idx = torch.from_numpy(np.concatenate(parts))                          # (4500,) grouped by style
        style = torch.cat([torch.full((len(p),), k) for k, p in enumerate(parts)])
        rendered = torch.cat([render(s, digits[torch.from_numpy(p)], torch.from_numpy(p))
                              for s, p in zip(STYLES, parts)])
        t = torch.from_numpy(test)
        _CACHE.update(train_images=rendered, train_style=style, train_label=labels[idx], train_index=idx,
                      test_images=torch.stack([render(s, digits[t], t) for s in STYLES], 1),
                      test_label=labels[t], test_index=t)
    return dict(_CACHE)


class StyleDigitSource:
    """Training batches of (image, style) from the 4,500 styled training digits; the 500 held out in every style."""

    def __init__(self, task: str = TASK, *, seed: int, device="cpu"):
        if task != TASK:
            raise ConfigError(f"unknown style task {task!r}; the styles family trains on {TASK}")
        data = load_digit_styles()
        self.device = device
        self.styles = STYLES
        self.images = data["train_images"].to(device)                          # (4500, 1, 32, 32) uint8
        self.style = data["train_style"].to(device)                            # (4500,) int64, 0..K-1
        self.test_images = data["test_images"].to(device)                      # (500, K, 1, 32, 32) uint8
        self.test_labels = data["test_label"].to(device)                       # (500,)
        self.spec = DataSpec(name=TASK, title="Digits in 5 procedural styles (unpaired)", kind="unpaired",
                             shape=(1, SIDE, SIDE), num_classes=10, class_names=tuple(str(d) for d in range(10)),
                             size=len(self.images),
                             source="assets/mnist5k.npz (LeCun, Cortes, Burges; CC BY-SA 3.0), styles made offline",
                             extra={"styles": STYLES, "held_out": len(self.test_labels)})
        self.order = EpochOrder(len(self.images), seed, "styled training digits")

    def sample(self, n: int):
        """(x, style): float32 (n, 1, 32, 32) in [-1, 1] and int64 (n,) the style each image is drawn in."""
        idx = self.order.take(n).to(self.device, non_blocking=True)
        return to_unit_range(self.images[idx]), self.style[idx]

    def held_out(self, n: int | None = None):
        """The first n (default 500) held-out digits: (every style (n, K, 1, 32, 32) in [-1, 1], label (n,));
        [:, 0] is the plain digit, the input of the views and metrics."""
        n = len(self.test_labels) if n is None else n
        return to_unit_range(self.test_images[:n]), self.test_labels[:n]

    def real_sample(self, n: int, seed: int):
        """n held-out digits (every style, label) drawn with a seed of their own (never the training stream)."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randint(len(self.test_labels), (n,), generator=g).to(self.device)
        return to_unit_range(self.test_images[idx]), self.test_labels[idx]

    def get_state(self) -> dict:
        return self.order.get_state()

    def set_state(self, state: dict) -> None:
        """Restore a get_state(); ValueError if the order is not one of this training set."""
        self.order.set_state(state)
