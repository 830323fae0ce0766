"""Snapshot: what a reader (a UI, the CLI) sees of a Trainer, as immutable numpy arrays and uint8 images."""
from __future__ import annotations

from dataclasses import dataclass, field

from ganengine.config import Knobs, RunConfig
from ganengine.data.spec import DataSpec


@dataclass(frozen=True)
class Snapshot:
    status: str                 # "ready", "running", "paused", "finished" (a limit was reached), "stopped"
    message: str                # the latest thing worth telling a user ("" when nothing)
    step: int
    d_updates: int
    g_updates: int
    train_seconds: float
    steps_per_sec: float
    metrics: dict               # column -> float32 array (ganengine.history.metric_columns: by name), bounded length
    latest: dict                # the newest metric row
    events: tuple               # Event(step, kind, text), newest last
    visuals: dict               # render_visuals() output: "step", "views", "captions", "frame", each view by name
                                # (uint8 HxWx3), "d_hist", "field" (2-D)
    timeline_steps: tuple
    timeline_frames: tuple      # uint8 frames, read-only
    config: RunConfig
    knobs: Knobs
    spec: DataSpec
    version: int                # grows with every publication
    visuals_version: int        # grows when visuals change
    limits: dict = field(default_factory=dict)
    quality: tuple = ()         # periodic metrics: dicts with "step", "time" and the family's quality job's keys
    run_number: int = 0         # grows when the trainer's run is replaced (reset, new setup, checkpoint loaded)
    restore_steps: tuple = ()   # the steps a rewind can go back to (ganengine.history.RestorePoints)

    def rewind_target(self, step: int):
        """The step a rewind to ``step`` goes to: the latest restore point at or before it, or None."""
        earlier = [s for s in self.restore_steps if s <= step]
        return earlier[-1] if earlier else None

    @property
    def running(self) -> bool:
        return self.status == "running"
