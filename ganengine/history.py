"""Bounded histories: per-step scalars and fixed-noise frames in constant memory, however long the run.

MetricHistory keeps at most ``capacity`` rows. When it fills, the older half is merged pairwise (each pair becomes its
mean), so recent steps stay at full resolution and older ones get coarser by powers of two: a million-step run keeps
the same few thousand rows as a thousand-step one. FrameHistory does the same for images by thinning: it keeps the
first frame and every other one of the older half.
"""
from __future__ import annotations

import numpy as np



def metric_columns(scalars: tuple) -> tuple:
    """A run's history columns: step and training time, the family's named scalars (Family.scalars, e.g.
    loss/D, loss/G, D(x), D(G(z))/before, D(G(z))/after, grad/G, grad/D), the measured rate and both lrs.
    These are also the keys of metrics.jsonl and of Snapshot.metrics / Snapshot.latest."""
    return ("step", "time", *scalars, "steps_per_sec", "lr_g", "lr_d")


class MetricHistory:
    def __init__(self, *, columns: tuple, capacity: int = 4096):
        if capacity < 8 or capacity % 4:
            raise ValueError("capacity must be a multiple of 4, at least 8")
        self.columns = tuple(columns)
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.capacity = capacity
        self._rows = np.full((capacity, len(self.columns)), np.nan, dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, rows: np.ndarray) -> None:
        """Append rows of shape (n, len(columns)) (or one row of shape (len(columns),))."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        for row in rows:
            if self._n == self.capacity:
                self._compress()
            self._rows[self._n] = row
            self._n += 1

    def _compress(self) -> None:
        """Merge the older half pairwise (nan-aware mean): capacity rows -> 3/4 capacity rows."""
        half = self.capacity // 2
        pairs = self._rows[:half].reshape(half // 2, 2, -1)
        with np.errstate(invalid="ignore"):
            counts = np.isfinite(pairs).sum(1)
            merged = np.where(counts > 0, np.nansum(pairs, 1) / np.maximum(counts, 1), np.nan)
        self._rows[: half // 2] = merged
        self._rows[half // 2: half // 2 + half] = self._rows[half: self.capacity]
        self._n = half // 2 + half
        self._rows[self._n:] = np.nan

    def truncate_after(self, step: float) -> None:
        """Drop rows whose step is greater than ``step`` (after a rollback)."""
        keep = int(np.searchsorted(self._rows[: self._n, 0], step, side="right"))
        self._rows[keep: self._n] = np.nan
        self._n = keep

    def columns_dict(self) -> dict:
        """A copy of every column as float32 arrays."""
        data = self._rows[: self._n].astype(np.float32)
        return {c: data[:, i] for i, c in enumerate(self.columns)}

    def last(self) -> dict:
        if not self._n:
            return {}
        return {c: float(v) for c, v in zip(self.columns, self._rows[self._n - 1])}

    def state(self) -> dict:
        return {"rows": self._rows[: self._n].copy(), "columns": self.columns}


class FrameHistory:
    """Images with their steps, at most ``capacity`` of them; older frames are thinned, the first one is kept."""

    def __init__(self, *, capacity: int = 64):
        self.capacity = capacity
        self.steps: list[int] = []
        self.frames: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.frames)

    def append(self, step: int, frame: np.ndarray) -> None:
        frame.setflags(write=False)  # published frames are shared with readers without copying
        if self.steps and self.steps[-1] == step:  # a re-render of the same step replaces it
            self.frames[-1] = frame
            return
        if len(self.frames) >= self.capacity:
            half = len(self.frames) // 2
            keep = [0] + list(range(2, half, 2)) + list(range(half, len(self.frames)))
            self.steps = [self.steps[i] for i in keep]
            self.frames = [self.frames[i] for i in keep]
        self.steps.append(int(step))
        self.frames.append(frame)

    def truncate_after(self, step: int) -> None:
        keep = [i for i, s in enumerate(self.steps) if s <= step]
        self.steps = [self.steps[i] for i in keep]
        self.frames = [self.frames[i] for i in keep]

    def copy(self) -> tuple[list, list]:
        return list(self.steps), list(self.frames)


class RestorePoints:
    """Copies of a run's full training state at a few steps, for rewinding: at most ``max_points`` of them and at
    most ``max_bytes`` in all (older points are thinned like FrameHistory's frames; the first is kept)."""

    def __init__(self, *, max_points: int = 32, max_bytes: int = 48 * 2**20):
        self.max_points, self.max_bytes = max_points, max_bytes
        self._points: list[tuple[int, dict, int]] = []  # (step, state, bytes)

    def __len__(self) -> int:
        return len(self._points)

    @property
    def steps(self) -> list[int]:
        return [p[0] for p in self._points]

    def add(self, step: int, state: dict, nbytes: int) -> None:
        if nbytes > self.max_bytes:
            return  # a model too large to keep copies of: rewinding is simply not offered
        self._points = [p for p in self._points if p[0] < step]
        while self._points and (len(self._points) >= self.max_points or
                                sum(p[2] for p in self._points) + nbytes > self.max_bytes):
            if len(self._points) <= 2:
                self._points.pop(-1)
            else:
                half = len(self._points) // 2
                keep = [0] + list(range(2, half, 2)) + list(range(half, len(self._points)))
                if len(keep) == len(self._points):
                    self._points.pop(1)
                else:
                    self._points = [self._points[i] for i in keep]
        self._points.append((int(step), state, int(nbytes)))

    def at_or_before(self, step: int):
        """(step, state) of the latest point at or before ``step``, or None."""
        best = None
        for p in self._points:
            if p[0] <= step:
                best = p
        return None if best is None else (best[0], best[1])

    def truncate_after(self, step: int) -> None:
        self._points = [p for p in self._points if p[0] <= step]
