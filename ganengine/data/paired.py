"""Paired digit tasks for image-to-image translation (pix2pix), made offline from the 5,000 bundled MNIST digits.

Every digit is padded 28 -> 32 (2 px of background each side, so a U-Net halves it 5 times to 1x1) and becomes one
(input, target, label) triple, stored as uint8 and scaled to [-1, 1] per batch (white strokes on black, as MNIST):
  edges2digits  input: the digit's edges, Canny-style (Canny 1986) without hysteresis: Gaussian blur (sigma 1),
                Sobel gradient g, keep pixels where |g| is a local maximum across the edge (non-maximum suppression
                over 4 directions) and |g| > 0.1 (images in [0, 1]); a thin, often broken outline on both sides of
                each stroke. Not a per-pixel function of the target: G must fill strokes in and restore their grey
                levels from contours alone.
  blur2digits   input: the digit blurred with a Gaussian of sigma 2 and quantised to uint8 (deblurring: ill-posed
                once the high frequencies are gone).
The target is the padded digit; the label its class.

Split: a FIXED held-out set of 500 digits, 50 per class, that training never sees: per class, the first 50 of the
digits the bundled classifier also held out (assets/make_digit_classifier.py: numpy default_rng(0), one
permutation per class, the first 100 held out), so the classifier measuring outputs never saw these targets either.
The other 4,500 are the training set. Training batches walk a seeded permutation epoch after epoch, as
TensorImageSource does (images.py), and get_state/set_state replay them exactly.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.config import ConfigError
from ganengine.data.images import load_bundled_mnist, to_unit_range
from ganengine.data.spec import DataSpec
from ganengine.metrics.image_quality import gaussian_filter
from ganengine.data.order import EpochOrder

TASKS = {
    "edges2digits": "edges -> digit (Canny-style edges of the bundled digits)",
    "blur2digits": "blurred -> sharp digit (Gaussian blur, sigma 2)",
}
SIDE = 32                 # 28 + 2 * 2: five halvings to 1x1 in the U-Net
HELD_OUT_PER_CLASS = 50   # 500 held-out pairs
SPLIT_SEED = 0            # the classifier's split seed (assets/make_digit_classifier.py)
EDGE_SIGMA, EDGE_THRESHOLD = 1.0, 0.1
BLUR_SIGMA = 2.0


def pad_digits(images: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """(N, C, 28, 28) -> (N, C, side, side), zero (black) border split evenly."""
    p = side - images.shape[-1]
    return F.pad(images, (p // 2, p - p // 2, p // 2, p - p // 2))


def canny_edges(images: torch.Tensor, sigma: float = EDGE_SIGMA, threshold: float = EDGE_THRESHOLD) -> torch.Tensor:
    """Thin edges of float (N, 1, H, W) images in [0, 1] -> bool (N, 1, H, W): Gaussian blur, Sobel, non-maximum
    suppression across the edge, threshold on the gradient magnitude (Canny without the hysteresis step)."""
    size = 2 * int(round(3 * sigma)) + 1
    smooth = gaussian_filter(images, size, sigma, padding=size // 2)                       # (N, 1, H, W)
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).div(4)[None, None]
    gx = F.conv2d(smooth, sobel, padding=1)                                                 # d/dx (columns)
    gy = F.conv2d(smooth, sobel.transpose(-1, -2), padding=1)                               # d/dy (rows)
    mag = torch.hypot(gx, gy)
    direction = torch.round(torch.atan2(gy, gx) / (np.pi / 4)).long() % 4  # 0: x, 1: diagonal, 2: y, 3: anti-diagonal
    h, w = mag.shape[-2:]
    padded = F.pad(mag, (1, 1, 1, 1))

    def shifted(dy, dx):  # mag at (row + dy, col + dx), 0 outside
        return padded[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    peak = torch.zeros_like(mag, dtype=torch.bool)
    for k, (dy, dx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):  # neighbours along the gradient
        peak |= (direction == k) & (mag >= shifted(dy, dx)) & (mag >= shifted(-dy, -dx))
    return peak & (mag > threshold)


def make_inputs(task: str, targets: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1, 32, 32) digits -> uint8 (N, 1, 32, 32) inputs of the task."""
    x = targets.float() / 255
    if task == "edges2digits":
        return canny_edges(x).to(torch.uint8) * 255
    if task == "blur2digits":
        return (gaussian_filter(x, 13, BLUR_SIGMA, padding=6) * 255).round_().clamp_(0, 255).to(torch.uint8)
    raise ConfigError(f"unknown paired task {task!r}; choose one of {', '.join(TASKS)}")


def held_out_indices(labels: np.ndarray, per_class: int = HELD_OUT_PER_CLASS, seed: int = SPLIT_SEED) -> np.ndarray:
    """Sorted indices of the held-out digits: per class c, rng.permutation(indices of c)[:per_class], with one
    numpy default_rng(seed) drawn class after class (the classifier's split, whose first 100 per class it held out)."""
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]))


_CACHE: dict = {}


def load_paired_digits(task: str) -> dict:
    """All 5,000 pairs of a task and the split: uint8 'input', 'target' (N, 1, 32, 32), int64 'label' (N,),
    int64 'train' (4,500) and 'test' (500) indices. Made once per process (the edges take ~1 s); the tensors are
    shared between calls, so index them (a copy) rather than writing into them."""
    if task not in TASKS:
        raise ConfigError(f"unknown paired task {task!r}; choose one of {', '.join(TASKS)}")
    if task not in _CACHE:
        _CACHE[task] = _make_pairs(task)
    return dict(_CACHE[task])


def _make_pairs(task: str) -> dict:
    images, labels = load_bundled_mnist()                  # (5000, 1, 28, 28) uint8, (5000,)
    targets = pad_digits(images)                           # (5000, 1, 32, 32)
    test = torch.from_numpy(held_out_indices(labels.numpy()))
    keep = torch.ones(len(labels), dtype=torch.bool)
    keep[test] = False
    return {"input": make_inputs(task, targets), "target": targets, "label": labels,
            "train": torch.nonzero(keep).squeeze(1), "test": test}


class PairedDigitSource:
    """Training batches of (input, target, label) from the 4,500 training pairs; the 500 held-out pairs apart."""

    def __init__(self, task: str = "edges2digits", *, seed: int, device="cpu"):
        data = load_paired_digits(task)
        self.task = task
        spec = DataSpec(name=task, title=f"Paired digits: {TASKS[task]}", kind="paired", shape=(1, SIDE, SIDE),
                        num_classes=10, class_names=tuple(str(d) for d in range(10)), size=len(data["train"]),
                        source="assets/mnist5k.npz (LeCun, Cortes, Burges; CC BY-SA 3.0), pairs made offline",
                        extra={"input_shape": (1, SIDE, SIDE), "held_out": len(data["test"])})
        self._hold(data, spec, seed, device)

    def _hold(self, data: dict, spec: DataSpec, seed: int, device) -> None:
        """Keep the training and held-out pairs of a load_paired_digits-like dict (any input and target sizes: the
        low-res digits of ganengine.data.lowres use this too) and start the seeded training order."""
        self.spec, self.device = spec, device
        train, test = data["train"], data["test"]
        self.inputs = data["input"][train].to(device)      # (4500, 1, h, w) uint8
        self.targets = data["target"][train].to(device)    # (4500, 1, H, W) uint8
        self.labels = data["label"][train].to(device)      # (4500,)
        self.test_inputs, self.test_targets = data["input"][test].to(device), data["target"][test].to(device)
        self.test_labels = data["label"][test].to(device)  # (500,), sorted by index
        self.order = EpochOrder(len(self.labels), seed, "training pairs")

    def sample(self, n: int):
        """(input, target, label): float32 (n, 1, h, w), (n, 1, H, W) in [-1, 1] and int64 (n,), from the training
        pairs (32 px both for the paired tasks)."""
        idx = self.order.take(n).to(self.device, non_blocking=True)
        return to_unit_range(self.inputs[idx]), to_unit_range(self.targets[idx]), self.labels[idx]

    def held_out(self, n: int | None = None):
        """The first n (default all 500) held-out pairs, in a fixed order: (input, target, label)."""
        n = len(self.test_labels) if n is None else n
        return (to_unit_range(self.test_inputs[:n]), to_unit_range(self.test_targets[:n]), self.test_labels[:n])

    def real_sample(self, n: int, seed: int):
        """n held-out pairs drawn with a seed of their own (never the training stream)."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randint(len(self.test_labels), (n,), generator=g).to(self.device)
        return to_unit_range(self.test_inputs[idx]), to_unit_range(self.test_targets[idx]), self.test_labels[idx]

    def get_state(self) -> dict:
        return self.order.get_state()

    def set_state(self, state: dict) -> None:
        """Restore a get_state(); ValueError if the order is not one of this training set."""
        self.order.set_state(state)
