"""The page's training budget on a public server (GAN_RUN_STEPS / GAN_RUN_SECONDS), as TrainService applies it.

The page's training so far is spent + (the run's step - paid_from_step) (playground/session_state.py): ``spent``
counts what earlier runs, rewinds and dropped branches forgot; ``paid_from`` is where the current run's own training
began (0; a loaded checkpoint's counters). A run's limit is absolute, paid_from + what is left, so nothing a visitor
does (reset, rewind, fork and keep, a new setup) refreshes the budget. A mixin of TrainService (it uses
``self.settings``).
"""
from __future__ import annotations

from typing import Optional

from playground.replies import Reply, refused
from playground.session_state import remaining_budget


class RunBudget:
    def _apply_budget(self, s, trainer, paid_from=None) -> None:
        """Give the trainer what is left of the page's limits (the whole budget used: a limit it has reached).
        paid_from: (step, train seconds) from which this run's training is paid (a new or reset run: 0; a loaded
        checkpoint: its own counters; None: as before, e.g. after a rewind or a kept branch). Limits are absolute:
        paid_from + what is left, so a rewind to a late frame or a kept branch gets no budget twice."""
        if paid_from is not None:
            s.paid_from_step, s.paid_from_seconds = int(paid_from[0]), float(paid_from[1])
        left = remaining_budget(s, self.settings.run_steps, self.settings.run_seconds)
        if left is None:
            trainer.set_limits(max_steps=max(trainer.snapshot().step, 1) if self.settings.run_steps else 0,
                               max_seconds=1e-9 if self.settings.run_seconds else 0.0)
            return
        trainer.set_limits(max_steps=s.paid_from_step + left[0] if left[0] else 0,
                           max_seconds=s.paid_from_seconds + left[1] if left[1] else 0.0)

    def budget_left_now(self, s, trainer) -> Optional[tuple[int, float]]:
        """What the page may still train beyond the run's current counters (0 = no limit), or None when nothing.
        A branch gets this (it shares the page's budget with the run it forks from)."""
        left = remaining_budget(s, self.settings.run_steps, self.settings.run_seconds)
        if left is None:
            return None
        snap = trainer.snapshot()
        steps = left[0] - (snap.step - s.paid_from_step) if left[0] else 0
        seconds = left[1] - (snap.train_seconds - s.paid_from_seconds) if left[1] else 0.0
        if (left[0] and steps <= 0) or (left[1] and seconds <= 0):
            return None
        return steps, seconds

    def _budget_message(self, s, used_up: bool = False) -> Optional[Reply]:
        """A sentence when the page has used its whole training budget (or used_up says so), else None."""
        if not used_up and remaining_budget(s, self.settings.run_steps, self.settings.run_seconds) is not None:
            return None
        limits = [f"{self.settings.run_seconds:g} s" if self.settings.run_seconds else "",
                  f"{self.settings.run_steps:,} steps" if self.settings.run_steps else ""]
        spent = " / ".join(x for x in limits if x)
        return refused(f"⚠ This page has used its training budget on this server ({spent} of training, counted "
                       f"across resets and rewinds). Explore what it learned, save a checkpoint, or run the app on "
                       f"your own machine for longer runs.")

