"""Low-resolution digits for super-resolution (SRGAN), made offline from the 5,000 bundled MNIST digits.

Each 28x28 digit (the high-resolution target I_HR) gets a low-resolution input I_LR by area downsampling with a
factor r: every LR pixel is the mean of an r x r block of HR pixels, quantised to uint8 as an image file would be,
  I_LR[i, j] = round(mean over 0 <= u, v < r of I_HR[r i + u, r j + v])
  lowres7   r = 4: 7x7 -> 28x28 (the paper's 4x factor; Ledig et al. 2017 downsample with a bicubic kernel, section
            3.1: "obtained the LR images by downsampling the HR images (BGR, C = 3) using bicubic kernel with
            downsampling factor r = 4"; area averaging is the exact box kernel on these 28 = 4 x 7 px digits)
  lowres14  r = 2: 14x14 -> 28x28
No padding: the outputs are the classifier's own 28 px, so its accuracy on them needs no crop. Images are stored as
uint8 (N, 1, h, w) and scaled to [-1, 1] per batch (white strokes on black, as MNIST).

Split and order: exactly pix2pix's (ganengine.data.paired): the FIXED 500 held-out digits (50 per class, ones the
bundled classifier also never trained on) and the other 4,500 for training, walked by a seeded EpochOrder that
rewind and checkpoints replay; the source is a PairedDigitSource holding these pairs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ganengine.config import ConfigError
from ganengine.data.images import load_bundled_mnist
from ganengine.data.paired import PairedDigitSource, held_out_indices
from ganengine.data.spec import DataSpec

SIDE = 28                                   # the HR side: the bundled digits' (and the classifier's)
FACTORS = {"lowres7": 4, "lowres14": 2}     # data name -> upscaling factor r
TASKS = {"lowres7": "7x7 -> 28x28 digits (x4, area-downsampled)",
         "lowres14": "14x14 -> 28x28 digits (x2, area-downsampled)"}


def factor_of(task: str) -> int:
    """The upscaling factor r of a low-res task; ConfigError for another name."""
    if task not in FACTORS:
        raise ConfigError(f"unknown low-resolution task {task!r}; choose one of {', '.join(FACTORS)}")
    return FACTORS[task]


def downsample(images: torch.Tensor, factor: int) -> torch.Tensor:
    """Area downsampling: uint8 or float (N, C, H, W) -> the same dtype (N, C, H / r, W / r), the mean of each r x r
    block (rounded for uint8). ConfigError if the sides are not multiples of r."""
    h, w = images.shape[-2:]
    if h % factor or w % factor:
        raise ConfigError(f"a {h}x{w} image cannot be shrunk by {factor}: its sides must be multiples of {factor}")
    small = F.avg_pool2d(images.float(), factor)                                  # (N, C, H/r, W/r)
    if images.dtype == torch.uint8:
        return small.round_().clamp_(0, 255).to(torch.uint8)
    return small


_CACHE: dict = {}


def load_lowres_digits(task: str) -> dict:
    """All 5,000 (LR, HR) pairs of a task and pix2pix's split: uint8 'input' (N, 1, 28/r, 28/r), 'target'
    (N, 1, 28, 28), int64 'label' (N,), 'train' (4,500) and 'test' (500) indices. Cached per process; the tensors
    are shared between calls, so index them (a copy) rather than writing into them."""
    r = factor_of(task)
    if task not in _CACHE:
        images, labels = load_bundled_mnist()                                     # (5000, 1, 28, 28) uint8, (5000,)
        test = torch.from_numpy(held_out_indices(labels.numpy()))
        keep = torch.ones(len(labels), dtype=torch.bool)
        keep[test] = False
        _CACHE[task] = {"input": downsample(images, r), "target": images, "label": labels,
                        "train": torch.nonzero(keep).squeeze(1), "test": test}
    return dict(_CACHE[task])


class LowResDigitSource(PairedDigitSource):
    """Training batches of (LR input, HR target, label) from the 4,500 training digits; the 500 held out apart.
    sample(n) -> float32 (n, 1, 28/r, 28/r), (n, 1, 28, 28) in [-1, 1], int64 (n,); held_out, real_sample,
    get_state and set_state as PairedDigitSource's."""

    def __init__(self, task: str = "lowres7", *, seed: int, device="cpu"):
        data = load_lowres_digits(task)
        r = factor_of(task)
        self.task, self.factor = task, r
        spec = DataSpec(name=task, title=f"Low-res digits: {TASKS[task]}", kind="paired", shape=(1, SIDE, SIDE),
                        num_classes=10, class_names=tuple(str(d) for d in range(10)), size=len(data["train"]),
                        source="assets/mnist5k.npz (LeCun, Cortes, Burges; CC BY-SA 3.0), downsampled offline",
                        extra={"input_shape": (1, SIDE // r, SIDE // r), "factor": r, "held_out": len(data["test"])})
        self._hold(data, spec, seed, device)
