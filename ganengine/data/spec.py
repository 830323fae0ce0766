"""DataSpec: what a model and a plot need to know about a dataset, and the BatchSource interface."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

import numpy as np
import torch


@dataclass(frozen=True, kw_only=True)
class DataSpec:
    name: str                      # dataset name as in RunConfig.data
    title: str                     # human label, e.g. "MNIST digits (5,000 bundled)"
    kind: str                      # "points" or "image"
    shape: tuple                   # one sample's shape: (2,) or (C, H, W)
    num_classes: int = 0           # > 0 when labels are kept (conditional models)
    class_names: tuple = ()
    centres: Optional[np.ndarray] = None   # (K, 2) mixture centres, for mode metrics
    sigma: Optional[float] = None          # mixture component std
    bounds: tuple = (-1.0, 1.0, -1.0, 1.0)  # (xmin, xmax, ymin, ymax) for 2-D plots
    size: int = 0                  # number of stored samples; 0 = drawn from a density
    source: str = ""               # provenance, one line
    extra: dict = field(default_factory=dict)

    @property
    def is_points(self) -> bool:
        return self.kind == "points"

    @property
    def channels(self) -> int:
        return self.shape[0] if self.kind == "image" else 0

    @property
    def image_size(self) -> int:
        return self.shape[-1] if self.kind == "image" else 0


class BatchSource(Protocol):
    """A dataset that hands out training batches. Randomness comes only from its own seeded generator."""
    spec: DataSpec

    def sample(self, n: int) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Return (x, y): x float32 on the source's device, in data space ([-1, 1] for images); y int64 or None."""

    def get_state(self) -> dict:
        """RNG and position state, as tensors and ints (checkpointable with weights_only loading)."""

    def set_state(self, state: dict) -> None:
        ...

    def real_sample(self, n: int, seed: int) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """A reproducible sample for plots and metrics that does not touch the training stream."""
