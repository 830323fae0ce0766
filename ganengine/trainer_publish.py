"""Snapshot publication, a part of the Trainer (ganengine.trainer): what readers see, and the views drawn for it.

A reader calls ``snapshot()`` and gets the latest immutable Snapshot (ganengine.snapshot); ``_publish`` builds a new
one outside the lock from the run and the command state, then swaps it in under ``_lock``. Views are drawn from the
run's visuals job: on the training thread when headless (the CLI), else on the render pool's thread
(ganengine.render_pool) from frozen copies, so training goes on while they draw.

This class is a mixin of Trainer: it holds no state of its own and uses the Trainer's locks and fields, described in
ganengine/trainer.py (lock order everywhere: ``_run_lock``, then ``_cv``).
"""
from __future__ import annotations

import sys
import traceback
from typing import Optional

from ganengine.render_pool import render_pool
from ganengine.snapshot import Snapshot


class SnapshotPublishing:
    """Trainer's publication: snapshot(), request_publish() and the drawing of views (see the module docstring)."""

    _visuals_fresh = False  # new views wait to be published (Snapshot.visuals_version then grows)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    def request_publish(self) -> None:
        """Publish a fresh snapshot soon (from the training thread if it runs, else now)."""
        with self._cv:
            self._status_dirty = True
            self._cv.notify_all()
        if not self.alive:
            self._publish()

    def _publish(self, status_hint: Optional[str] = None) -> None:
        """Build a Snapshot outside the lock (only the training thread or an idle trainer calls this), swap it in."""
        run = self.run
        with self._cv:
            running, finished, message = self._running, self._finished, self._message
            self._version += 1
            version = self._version
            if self._visuals_fresh:
                self._visuals_version += 1
                self._visuals_fresh = False
            visuals, visuals_version = self._visuals, self._visuals_version
            knobs = self._target_knobs
        if running:
            status = "running"
        elif finished:
            status = "finished"
        elif status_hint == "stopped":
            status = "stopped"
        elif run.step == 0:
            status = "ready"
        else:
            status = "paused"
        latest = run.history.last()
        steps, frames = run.frames.copy()
        snap = Snapshot(
            status=status, message=message, step=run.step, d_updates=run.d_updates, g_updates=run.g_updates,
            train_seconds=run.train_seconds, steps_per_sec=latest.get("steps_per_sec", float("nan")),
            metrics=run.history.columns_dict(), latest=latest, events=tuple(run.events), visuals=visuals,
            timeline_steps=tuple(steps), timeline_frames=tuple(frames), config=run.config, knobs=knobs,
            spec=run.spec, version=version, visuals_version=visuals_version, run_number=self._run_number,
            limits={"max_steps": self.max_steps, "max_seconds": self.max_seconds}, quality=self.quality.history(),
            restore_steps=tuple(run.restore_points.steps))
        with self._lock:
            self._snapshot = snap
        if self._on_publish is not None:
            self._on_publish(snap)

    def _take_visuals(self, run, timeline: bool = True) -> None:
        """On the training thread, holding _run_lock: this step's views. Headless (the CLI), drawn here; behind a
        page, drawn on the render pool's thread from frozen copies, so training goes on meanwhile. Only the latest
        waiting job is kept (the timeline then skips a frame rather than falling behind)."""
        job = run.visuals_job(timeline)
        if self._exit_when_idle:
            visuals = job()
            run.add_frame(visuals)
            with self._cv:
                self._visuals, self._visuals_fresh = visuals, True
            return
        with self._cv:
            waiting = self._render_next
            if waiting is not None and waiting[2] and not timeline and waiting[0] == self._run_number:
                return      # a step only shown (paced) never displaces a timeline frame still waiting to be drawn
            self._render_next = (self._run_number, job, timeline)
            start, self._render_busy = not self._render_busy, True
        if start:
            render_pool().submit(self._draw_waiting_visuals)

    def _draw_waiting_visuals(self) -> None:
        """On the render pool's thread: draw the waiting visuals jobs, newest first, and publish each result."""
        while True:
            with self._cv:
                item, self._render_next = self._render_next, None
                if item is None:
                    self._render_busy = False
                    self._cv.notify_all()
                    return
            number, job, _ = item
            try:
                visuals = job()                                 # the drawing: off the training thread
            except Exception:  # a view that fails to draw must not take the trainer down
                traceback.print_exc(file=sys.stderr)
                continue
            with self._run_lock:                                # between two training steps
                if number == self._run_number and self.run.add_frame(visuals):
                    with self._cv:
                        self._visuals, self._visuals_fresh = visuals, True
                    self._publish()
