"""Unpaired digit domains for CycleGAN and CoGAN, made offline from the 5,000 bundled MNIST digits.

Two domains A and B hold *different* digits: the 4,500 training digits are split into two disjoint halves, and the
second half is transformed; training draws an A batch and a B batch independently, so no digit is ever seen in both
domains (Zhu et al. 2017's setting: "no paired training data"). Every digit is padded 28 -> 32 as in
ganengine.data.paired (2 px of black each side; 32 = 4 x 8 for the ResNet G's two halvings).
  thin2thick   B = the digit's strokes thickened by a grey-level morphological dilation with a disc of radius 1
               (the 3x3 cross): b(p) = max of a over p and its 4 neighbours. A stroke grows by ~1 px on each side;
               not a per-pixel function of a (each output pixel depends on its neighbours), and its inverse (thinning)
               is not one either: G_BA must find the stroke's centre from its outline. The bundled classifier reads
               the dilated held-out digits at 95.4% (97.8% the originals), a 3x3 square dilation at 91.6%.
  digits-negatives  (CoGAN, Liu & Tuzel 2016, section 5 "digits and negative digits") B = 255 - a: a per-pixel,
               exactly invertible transform (the border turns white too)
  digits-edges (CoGAN, "digits and edge digits") B = the digit's soft edges (soft_edges below): the Canny-style
               edges of ganengine.data.paired (canny_edges: a thin outline on both sides of each stroke), blurred by
               a Gaussian of sigma 0.6 and scaled so each image's brightest pixel is 255: grey-level outlines ~2 px
               wide, still with the stroke's inside dark. The binary 1 px Canny outline was too high-frequency for
               CoGAN's small G2, which drew it as a cloud of dashes inside the digit's outline (bench/COGAN.md); the
               authors' own edge digits are grey-level too (mingyuliutw/CoGAN dataset_mnistedge.py: 3x3 dilation
               minus the digit). The bundled classifier reads edge images poorly; ganengine.metrics.coupled reads
               them another way
The held-out set is paired.py's: 500 digits, 50 per class, that the bundled classifier never trained on and that
training never sees, in either domain. For them both sides are known exactly: a = the digit, b = T(a), so G_AB(a)
can be compared with T(a) and G_BA(T(a)) with a. Halves: per class, a fixed permutation (numpy default_rng(HALF_SEED))
of the class's training digits; the first half goes to A, the rest to B (2,250 each, classes balanced as MNIST is).
Batches walk a seeded permutation of each half (ganengine.data.order.EpochOrder, one per domain), and
get_state/set_state replay both exactly.
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

TASKS = {
    "thin2thick": "thin -> thick strokes (grey-level dilation by a radius-1 disc)",
    "digits-negatives": "digits and negative digits (255 - x)",
    "digits-edges": "digits and edge digits (soft Canny-style edges)",
}
DOMAIN_NAMES = {"thin2thick": ("thin", "thick"), "digits-negatives": ("digit", "negative"),
                "digits-edges": ("digit", "edges")}  # what A and B are, in a word each (captions)
EDGE_BLUR_SIGMA = 0.6   # digits-edges: the Gaussian that softens the 1 px Canny outline (soft_edges)
HALF_SEED = 1   # the fixed A/B split of the training digits (not a run's seed: every run and checkpoint shares it)


def dilate(images: torch.Tensor) -> torch.Tensor:
    """Grey-level dilation of uint8 (N, 1, H, W) by the 3x3 cross: out(p) = max(a(p), a(p +- e_x), a(p +- e_y))."""
    x = F.pad(images, (1, 1, 1, 1))                                               # (N, 1, H + 2, W + 2), 0 outside
    h, w = images.shape[-2:]
    shifts = [x[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0))]
    return torch.stack(shifts).amax(0)                                            # (N, 1, H, W), same dtype


def soft_edges(x: torch.Tensor) -> torch.Tensor:
    """digits-edges' T on float (N, 1, H, W) in [0, 1] -> float (N, 1, H, W) in [0, 1]: e = G_0.6 * canny(x) (the
    binary Canny-style outline of ganengine.data.paired, convolved with a 5x5 Gaussian of sigma EDGE_BLUR_SIGMA),
    then e / max(e) per image (an image with no edge stays 0)."""
    from ganengine.data.paired import canny_edges
    from ganengine.metrics.image_quality import gaussian_filter
    e = gaussian_filter(canny_edges(x).float(), 5, EDGE_BLUR_SIGMA, padding=2)           # (N, 1, H, W)
    return (e / e.amax((2, 3), keepdim=True).clamp_min(1e-6)).clamp(0, 1)


def transform(task: str, images: torch.Tensor) -> torch.Tensor:
    """Domain A uint8 (N, 1, 32, 32) -> the same digits in domain B (the task's exact transform T)."""
    if task == "thin2thick":
        return dilate(images)
    if task == "digits-negatives":
        return 255 - images
    if task == "digits-edges":
        return (soft_edges(images.float() / 255) * 255).round().to(torch.uint8)
    raise ConfigError(f"unknown unpaired task {task!r}; choose one of {', '.join(TASKS)}")


def split_halves(labels: np.ndarray, train: np.ndarray, seed: int = HALF_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of domain A's and domain B's digits: per class, a permutation of the class's training digits
    (one default_rng(seed), class after class), the first half to A and the rest to B. Disjoint by construction."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for c in range(10):
        mine = rng.permutation(train[labels[train] == c])
        a.append(mine[: len(mine) // 2])
        b.append(mine[len(mine) // 2:])
    return np.sort(np.concatenate(a)), np.sort(np.concatenate(b))


_CACHE: dict = {}


def load_unpaired_digits(task: str) -> dict:
    """The task's domains, made once per process: uint8 'a' (every digit, padded) and 'b' (every digit transformed),
    both (5000, 1, 32, 32), int64 'label' (5000,), and index vectors 'a_train' and 'b_train' (2,250 each, disjoint)
    and 'test' (the 500 held out). Training uses a[a_train] and b[b_train] only. Shared tensors: index them."""
    if task not in TASKS:
        raise ConfigError(f"unknown unpaired task {task!r}; choose one of {', '.join(TASKS)}")
    if task not in _CACHE:
        images, labels = load_bundled_mnist()                  # (5000, 1, 28, 28) uint8, (5000,)
        a = pad_digits(images)                                 # (5000, 1, 32, 32)
        test = held_out_indices(labels.numpy())
        train = np.setdiff1d(np.arange(len(labels)), test)
        a_train, b_train = split_halves(labels.numpy(), train)
        _CACHE[task] = {"a": a, "b": transform(task, a), "label": labels, "a_train": torch.from_numpy(a_train),
                        "b_train": torch.from_numpy(b_train), "test": torch.from_numpy(test)}
    return dict(_CACHE[task])


class UnpairedDigitSource:
    """Training batches of (a, b): an A batch and an independent B batch of other digits; the held-out 500 apart."""

    def __init__(self, task: str = "thin2thick", *, seed: int, device="cpu"):
        data = load_unpaired_digits(task)
        self.task, self.device = task, device
        a_train, b_train, test = data["a_train"], data["b_train"], data["test"]
        self.spec = DataSpec(name=task, title=f"Unpaired digits: {TASKS[task]}", kind="unpaired",
                             shape=(1, SIDE, SIDE), num_classes=10, class_names=tuple(str(d) for d in range(10)),
                             size=len(a_train) + len(b_train),
                             source="assets/mnist5k.npz (LeCun, Cortes, Burges; CC BY-SA 3.0), domains made offline",
                             extra={"domains": DOMAIN_NAMES[task], "held_out": len(test)})
        self.a = data["a"][a_train].to(device)                 # (2250, 1, 32, 32) uint8, domain A
        self.b = data["b"][b_train].to(device)                 # (2250, 1, 32, 32) uint8, domain B (other digits)
        self.test_a, self.test_b = data["a"][test].to(device), data["b"][test].to(device)  # b = T(a), exactly
        self.test_labels = data["label"][test].to(device)      # (500,), sorted by index
        g = torch.Generator().manual_seed(seed)                # two order seeds from the run's data seed
        seed_a, seed_b = (int(s) for s in torch.randint(2**62, (2,), generator=g))
        self.order_a = EpochOrder(len(self.a), seed_a, "domain A digits")
        self.order_b = EpochOrder(len(self.b), seed_b, "domain B digits")

    def sample(self, n: int):
        """(a, b): float32 (n, 1, 32, 32) each in [-1, 1], an A batch and an independent B batch."""
        ia, ib = self.order_a.take(n).to(self.device, non_blocking=True), self.order_b.take(n).to(self.device, non_blocking=True)
        return to_unit_range(self.a[ia]), to_unit_range(self.b[ib])

    def held_out(self, n: int | None = None):
        """The first n (default all 500) held-out digits in a fixed order: (a, b = T(a), label)."""
        n = len(self.test_labels) if n is None else n
        return to_unit_range(self.test_a[:n]), to_unit_range(self.test_b[:n]), self.test_labels[:n]

    def real_sample(self, n: int, seed: int):
        """n held-out (a, T(a), label) drawn with a seed of their own (never the training stream)."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randint(len(self.test_labels), (n,), generator=g).to(self.device)
        return to_unit_range(self.test_a[idx]), to_unit_range(self.test_b[idx]), self.test_labels[idx]

    def get_state(self) -> dict:
        return {"a": self.order_a.get_state(), "b": self.order_b.get_state()}

    def set_state(self, state: dict) -> None:
        """Restore a get_state(); ValueError if an order is not one of this domain's digits."""
        self.order_a.set_state(state["a"])
        self.order_b.set_state(state["b"])
