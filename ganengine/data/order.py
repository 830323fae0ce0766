"""EpochOrder: the order in which a stored dataset is walked, shared by every source that holds its examples.

Batches walk a seeded permutation of the n examples, epoch after epoch (a new permutation when the current one runs
out); a batch larger than the dataset is drawn with replacement. Its state (generator, permutation, position) is part
of a run's training state, so a rewind or a resumed checkpoint replays the same batches exactly.
"""
from __future__ import annotations

import torch


class EpochOrder:
    def __init__(self, n: int, seed: int, what: str = "examples"):
        self.n, self.what = int(n), what                  # what: for the message when a saved order does not fit
        self.generator = torch.Generator().manual_seed(seed)
        self.perm = torch.randperm(self.n, generator=self.generator)   # (n,) int64
        self.pos = 0

    def take(self, k: int) -> torch.Tensor:
        """The next k indices (k,) int64, on the CPU."""
        if k > self.n:  # a batch larger than the dataset: draw with replacement
            return torch.randint(self.n, (k,), generator=self.generator)
        if self.pos + k > self.n:  # a new epoch
            self.perm = torch.randperm(self.n, generator=self.generator)
            self.pos = 0
        idx = self.perm[self.pos:self.pos + k]
        self.pos += k
        return idx

    def get_state(self) -> dict:
        return {"generator": self.generator.get_state(), "perm": self.perm.clone(), "pos": self.pos}

    def set_state(self, state: dict) -> None:
        """Restore a get_state(); ValueError if the saved order is not an order of these n examples (a foreign
        checkpoint)."""
        perm, pos, n = state["perm"], int(state["pos"]), self.n
        if perm.dtype != torch.int64 or perm.shape != (n,) or not 0 <= pos <= n or \
                (n and not (0 <= int(perm.min()) and int(perm.max()) < n)):
            raise ValueError(f"the saved data order is not an order of this dataset's {n:,} {self.what}")
        self.generator.set_state(state["generator"])
        self.perm, self.pos = perm.clone(), pos
