"""Slow motion in the Train tab: one iteration of the visitor's run played as narrated stages. No Gradio here.

Per visitor (keyed by the session id, as TrainService): the recorded iteration (ganengine.slow_motion, which leaves
the run exactly as it was), the stage shown, and whether the real step has been applied. "Next stage" pauses the
run, records the coming iteration on first use, and steps through its stages; at the last stage (G's update, or
the last update of the family's iteration) the step itself is applied through the normal path (TrainService.step:
the slot and budget rules, the curves, the histograms and the timeline follow), and computes the very numbers the
stages told. If the run moved meanwhile (another step, a knob, a reset), the next click records afresh.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

from ganengine.slow_motion import record_iteration
from ganengine.slow_motion_stages import build_stages
from playground.figures import empty_figure
from playground.live_plot import figure_json
from playground.replies import Reply, done, refused
from playground.sessions import SessionGone
from playground.slow_motion_views import (header_markdown, highlight_css, images_html, progress_html,
                                          stage_figures)

INTRO = ("**Slow motion** plays one training iteration as GAN Lab's stages: for D, G draws samples, D classifies "
         "them, D's loss, D's gradients, D's update; then the same for G, on fakes only. Press **Next stage** "
         "(or **Play**). The run pauses; the step is applied for real at its last stage.")
SPEEDS = (0.5, 5.0)   # seconds per stage while playing


@dataclass
class Playback:
    run_number: int
    step: int             # the step the recorded iteration starts from
    knobs: object
    stages: list
    bounds: tuple
    index: int = 0
    applied: bool = False


@dataclass
class StageView:
    """What the panel shows: markdown, HTML, two figures as JSON text, and the reply to the click."""
    header: str
    progress: str
    pictures: str
    main: str
    side: str
    reply: str
    plane: bool = False   # the run's data are 2-D points: the data-space view stays on screen


class SlowMotion:
    def __init__(self, train):
        self.train = train                       # playground.train_service.TrainService
        self._lock = threading.Lock()
        self._playback: dict[str, Playback] = {}
        self._locks: dict[str, threading.Lock] = {}

    def _visitor_lock(self, sid: str) -> threading.Lock:
        with self._lock:
            live = {s.sid for s in self.train.registry.sessions()} | {sid}
            for gone in [k for k in self._locks if k not in live]:   # pages closed since: their state goes
                self._playback.pop(gone, None)
                self._locks.pop(gone, None)
            return self._locks.setdefault(sid, threading.Lock())

    def next_stage(self, sid: str) -> StageView:
        """Show the next stage (recording the coming iteration when there is none in progress for this run)."""
        try:
            with self._visitor_lock(sid):
                return self._next(sid)
        except SessionGone:
            return self._message("⚠ This page was closed or timed out; reload it to train again.")

    def previous_stage(self, sid: str) -> StageView:
        """Show the stage before the one shown, from the recording (nothing is re-run: the stages of this iteration
        were all recorded at once, so going back only redraws an earlier one's views)."""
        try:
            with self._visitor_lock(sid):
                pb = self._playback.get(sid)
                if pb is None:
                    return self._message(refused("No stage yet: press **Next stage** to record an iteration."))
                if pb.index == 0:
                    return self._view(pb, refused(f"This is the first stage (1 of {len(pb.stages)}) of the "
                                                  f"iteration from step {pb.step:,}."))
                pb.index -= 1
                return self._view(pb, done(f"Back to stage {pb.index + 1} of {len(pb.stages)} (as recorded; "
                                           f"nothing was re-run)."))
        except SessionGone:
            return self._message("⚠ This page was closed or timed out; reload it to train again.")

    def _next(self, sid: str) -> StageView:
        trainer, problem = self.train._trainer(sid)
        if problem:
            return self._message(problem)
        note = ""
        if trainer.working:                                     # slow motion needs the run still
            trainer.pause()
            trainer.wait_idle(10.0)
            note = "Paused the run. "
        snap = trainer.snapshot()
        pb = self._playback.get(sid)
        if pb is not None and not pb.applied and (pb.run_number, pb.step, pb.knobs) != \
                (snap.run_number, snap.step, trainer.knobs_now()):   # knobs accepted, maybe not yet published
            note += f"The run changed (now step {snap.step:,}); slow motion starts again from there. "
            pb = None
        if pb is None or (pb.applied and pb.index == len(pb.stages) - 1):
            pb = self._record(sid, trainer)
            if pb is None:
                return self._message(refused("⚠ Could not record an iteration; try again."))
            reply = done(note + f"Recorded the iteration from step {pb.step:,}: {len(pb.stages)} stages.")
        else:
            pb.index += 1
            reply = done(f"Stage {pb.index + 1} of {len(pb.stages)}.")
        if pb.index == len(pb.stages) - 1 and not pb.applied:
            answer = self.train.step(sid, "both")
            if getattr(answer, "ok", True):
                pb.applied = True
                trainer.wait_idle(30.0)
                reply = done(f"Last stage: step {pb.step + 1:,} is now applied for real, through the normal path "
                             f"(the curves and histograms above follow). Next stage starts the next iteration.")
            else:
                reply = Reply(f"The real step was not applied: {answer}", False)
        return self._view(pb, reply)

    def _record(self, sid: str, trainer) -> Optional[Playback]:
        with trainer.with_run() as run:
            rec = record_iteration(run)
            stages = build_stages(rec, run)
            bounds = tuple(run.spec.bounds)
        snap = trainer.snapshot()
        if not stages:
            return None
        pb = Playback(run_number=snap.run_number, step=rec.step, knobs=trainer.knobs_now(), stages=stages,
                      bounds=bounds)
        self._playback[sid] = pb
        return pb

    def _view(self, pb: Playback, reply: str) -> StageView:
        stage = pb.stages[pb.index]
        main, side = stage_figures(stage, pb.bounds)
        pictures = images_html(stage.data.get("images")) + highlight_css(stage)
        return StageView(header=header_markdown(stage), progress=progress_html(pb.stages, pb.index),
                         pictures=pictures, main=figure_json(main) if main else "", side=figure_json(side),
                         reply=reply, plane=any("points" in s.data for s in pb.stages))

    @staticmethod
    def _message(text: str) -> StageView:
        return StageView(header=INTRO, progress="", pictures="", main="",
                         side=figure_json(empty_figure("Slow motion", "No stage yet.")), reply=text)
