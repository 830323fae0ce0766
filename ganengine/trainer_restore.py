"""Going back, a part of the Trainer (ganengine.trainer): rewind to a restore point, and the divergence rollback.

Restore points are taken with each timeline frame (ganengine.history.RestorePoints, via GANRun); ``rewind(step)``
goes back to one on a visitor's request. The NaN guard keeps a last good state (GANRun.remember_good, taken every
``sample_every`` steps) and, when a gathered block of metrics holds a non-finite value, rolls back to it and pauses
(as lucidrains/lightweight-gan does: detect, pause, roll back). Either way the quality measurements of the abandoned
path are dropped, and training resumes exactly as it went from the point it went back to.

This class is a mixin of Trainer: it holds no state of its own and uses the Trainer's locks and fields, described in
ganengine/trainer.py (lock order everywhere: ``_run_lock``, then ``_cv``).
"""
from __future__ import annotations

from typing import Optional

import numpy as np


class RestoreControl:
    """Trainer's way back: rewind() and the rollback after a divergence (see the module docstring)."""

    def rewind(self, step: int) -> int:
        """Pause, then go back to the latest restore point at or before ``step`` (taken with each timeline frame):
        weights, optimisers, RNG and counters, so training resumes exactly as it went from there, unless you change
        a knob first. Returns the step; raises ValueError when no restore point is that old."""
        self.pause()
        with self.with_run() as run:
            back = run.rewind(int(step))
            self.quality.truncate_after(back)   # measurements of the abandoned path go with it
            run.add_event("rewind", f"rewound to step {back}")
            run.remember_good()
            self._visuals = run.render_visuals()
            with self._cv:
                self._commands.clear()
                self._visuals_fresh, self._finished, self._message = True, False, ""
            self._publish()  # under the run lock, so the caller sees the rewound run at once
        return back

    def _roll_back_if_diverged(self, run, rows: Optional[np.ndarray]) -> bool:
        """On the training thread, holding _run_lock: if ``rows`` hold a non-finite value, go back to the last good
        state, pause and say why. Returns whether it rolled back."""
        problem = run.non_finite(rows)
        if not problem:
            return False
        bad_step = run.step
        good = run.rollback()
        self.quality.truncate_after(good)   # the diverged path's measurements go with it
        run.add_event("rollback", f"diverged at step {bad_step}; rolled back to step {good}")
        with self._cv:
            self._running = False
            self._commands.clear()
            self._message = (f"Training diverged at step {bad_step} ({problem}). Rolled back to step {good} and "
                             f"paused: lower the learning rates, add R1 or change the loss, then resume.")
        self._visuals = run.render_visuals()
        self._visuals_fresh = True
        return True
