"""The run's timeline on the Train tab: show a past frame, rewind the run to one, and where the slider stands after.
A mixin of TrainService (it uses ``self.registry`` and the budget's ``_apply_budget``, playground/run_budget.py);
a rewind goes back to the nearest restore point at or before the frame (ganengine.trainer_restore) and gives no
training budget back.
"""
from __future__ import annotations

import numpy as np

from playground.form_values import whole_number
from playground.live_tick import rewind_note
from playground.replies import Reply, done, refused
from playground.session_state import spend
from playground.views import column_labels, image_html


class RunTimeline:
    def timeline_frame(self, sid: str, index) -> str:
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            return image_html(None, "No frames yet.")
        snap = trainer.snapshot()
        if not snap.timeline_frames:
            return image_html(None, "No frames yet: they are taken every few steps.")
        i = whole_number(index, -2**62, 2**62)
        i = len(snap.timeline_frames) - 1 if i is None else int(np.clip(i, 0, len(snap.timeline_frames) - 1))
        step = snap.timeline_steps[i]
        return image_html(snap.timeline_frames[i], f"frame {i + 1} of {len(snap.timeline_frames)}: step {step:,}"
                                                   f" · {rewind_note(snap, step)}", alt="past samples",
                          columns=column_labels(snap.visuals or {}, (snap.visuals or {}).get("views", ("",))[0]))

    def rewind(self, sid: str, index) -> Reply:
        """Rewind the visitor's run to the timeline frame ``index`` (the nearest restore point at or before it)."""
        trainer = self.registry.session(sid).live_trainer
        if trainer is None or not trainer.snapshot().timeline_steps:
            return refused("Nothing to rewind yet.")
        steps = trainer.snapshot().timeline_steps
        i = whole_number(index, -2**62, 2**62)
        if i is None:
            return refused("⚠ pick a frame on the timeline first")
        i = int(np.clip(i, 0, len(steps) - 1))
        s = self.registry.session(sid)
        before = trainer.snapshot()
        try:
            back = trainer.rewind(steps[i])
        except ValueError:
            return refused("⚠ that frame is older than the oldest restore point kept for this run")
        after = trainer.snapshot()
        spend(s, before, after)
        self._apply_budget(s, trainer, paid_from=(min(s.paid_from_step, after.step),
                                                  min(s.paid_from_seconds, after.train_seconds)))
        s.sent.clear()
        nearest = "" if back == steps[i] else f" (the nearest restore point at or before step {steps[i]:,})"
        return done(f"Rewound to step {back:,}{nearest}: weights, optimisers and random state as they were; the "
                    f"curves, frames and quality after it are gone. Change a knob, then press Start to take a "
                    f"different path.")

    def timeline_position(self, sid: str) -> tuple:
        """(frames on the timeline, the last frame's index) after the run moved (a rewind)."""
        trainer = self.registry.session(sid).live_trainer
        n = len(trainer.snapshot().timeline_steps) if trainer is not None else 0
        return n, max(n - 1, 0)
