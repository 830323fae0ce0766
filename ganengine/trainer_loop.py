"""The training thread, a part of the Trainer (ganengine.trainer): the control loop that takes the next piece of work.

Commands (ganengine.trainer) only change the command state under ``_cv`` and wake this loop; the loop then picks,
in this order: queued knob changes, a publication asked for, the run's limit, a queued step command, a continuous
(maybe paced) step. Each training step runs holding ``_run_lock``; a caller waiting for the run (``with_run``) is
served before the next step. After a step the loop gathers metric rows (every ``log_every`` steps, and for every
step a person should see), checks them for divergence, stores them, takes views and publishes.

This class is a mixin of Trainer: it holds no state of its own and uses the Trainer's locks and fields, described in
ganengine/trainer.py (lock order everywhere: ``_run_lock``, then ``_cv``).
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Optional

import numpy as np

from ganengine.config import ConfigError
from ganengine.device import configure_threads, run_step_flops

PUBLISH_INTERVAL = 0.1  # seconds between metric publications while running (visual ones publish at once)


class TrainingLoop:
    """Trainer's training thread: start and halt it, pick the next work, run it (see the module docstring)."""

    def _ensure_thread(self) -> None:  # caller holds _cv
        if self._thread is None or not self._thread.is_alive():
            self._stop_flag = False
            self._thread = threading.Thread(target=self._loop, name="gan-trainer", daemon=True)
            self._thread.start()
        self.quality.start()

    def _halt_thread(self, timeout: float = 5.0) -> bool:
        with self._cv:
            self._stop_flag = True
            self._running = False
            self._cv.notify_all()
            thread = self._thread
        self.quality.stop(timeout)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                return False
        self._publish(status_hint="stopped")
        return True

    def _limit_reached(self) -> bool:
        run = self.run
        return bool((self.max_steps and run.step >= self.max_steps) or
                    (self.max_seconds and run.train_seconds >= self.max_seconds))

    def _apply_pending_knobs(self) -> None:
        """Apply queued knob changes, if any. Lock order everywhere: _run_lock, then _cv."""
        with self._run_lock:
            with self._cv:
                if not self._knobs_dirty:
                    return
                knobs, self._knobs_dirty = self._target_knobs, False
            self.run.apply_knobs(knobs)

    def _pace_wait(self):  # caller holds _cv: seconds until a paced continuous step may run, or None
        if not (self._running and self._pace) or self._commands:
            return None
        wait = self._due - time.perf_counter()
        return wait if wait > 0 else None

    def _next_work(self):  # caller holds _cv; returns (kind, last step of a manual command) or None when idle
        if self._knobs_dirty:
            return "knobs", False
        if self._status_dirty:
            self._status_dirty = False
            return "publish", False
        if (self._commands or self._running) and self._limit_reached():
            return "limit", False  # every training step counts: continuous, queued, D-only or G-only
        if self._commands:
            cmd = self._commands[0]
            cmd[1] -= 1
            if cmd[1] <= 0:
                self._commands.popleft()
                return cmd[0], True
            return cmd[0], False
        if self._running and self._pace_wait() is None:
            if self._pace:
                self._due = time.perf_counter() + 1.0 / self._pace
            return self.run.family.phases[0], bool(self._pace)   # a paced step is shown as it happens
        return None

    def _loop(self) -> None:
        run = self.run
        configure_threads(self._threads, headless=self._exit_when_idle,
                          step_flops=run_step_flops(run) if self._threads is None else 0.0)
        clock = time.perf_counter
        last_gather = last_publish = clock()
        idle = 0.0
        while True:
            with self._cv:
                while True:
                    if self._stop_flag:
                        self._busy = False
                        self._cv.notify_all()
                        return
                    work = None if self._waiters else self._next_work()
                    if work is not None:
                        self._busy = True
                        break
                    self._busy = False
                    self._cv.notify_all()
                    pause = 0.05 if self._waiters else self._pace_wait()   # read once: it moves with the clock
                    paced = self._running and self._pace and not self._commands
                    if paced and pause is None:
                        continue              # the paced step fell due since _next_work looked: take it now
                    if self._exit_when_idle and not paced:
                        return
                    t0 = clock()
                    self._cv.wait(pause)      # None only when nothing is due: a command or a setting wakes it
                    idle += clock() - t0
            kind, shown = work
            try:
                if kind in ("knobs", "publish", "limit"):
                    if kind == "knobs":
                        self._apply_pending_knobs()
                    with self._run_lock:
                        if kind == "limit":
                            self._finish_at_limit()
                        self._publish()
                    continue
                with self._run_lock:
                    run.train_iteration(kind)
                    step = run.step
                    manual = kind != run.family.phases[0] or shown
                    first = step == 1  # show a fresh run at once, not after its first log interval
                    shown = shown or first
                    gather = manual or first or step % run.config.log_every == 0 or \
                        step % run.config.sample_every == 0 or self._limit_reached()  # the last rows too
                    if gather:
                        now = clock()
                        rows = run.gather(max(now - last_gather - idle, 0.0))
                        last_gather, idle = now, 0.0
                        self._after_gather(rows, show=shown)
                    now = clock()
                    if shown or self._visuals_fresh or (gather and now - last_publish >= PUBLISH_INTERVAL):
                        self._publish()
                        last_publish = now
            except Exception as err:  # keep the thread (and the app) alive; tell the user what happened
                with self._cv:
                    self._running = False
                    self._commands.clear()
                    if isinstance(err, ConfigError):  # e.g. an unreadable image in a folder: already one sentence
                        self._message = f"Training stopped: {str(err)[:300]}"
                    else:
                        traceback.print_exc(file=sys.stderr)
                        self._message = f"Training stopped by an error: {type(err).__name__}: {str(err)[:200]}"
                self._publish()

    def _after_gather(self, rows: Optional[np.ndarray], *, show: bool) -> None:
        """On the training thread, holding _run_lock: divergence check, history, visuals, limits."""
        run = self.run
        if self._roll_back_if_diverged(run, rows):   # ganengine.trainer_restore
            return
        if rows is not None:
            run.history.append(rows)
            if self._on_rows is not None:
                self._on_rows(rows, run.history.columns)
        if run.step - run._good_step >= run.config.sample_every:  # the last good state a rollback goes to
            run.remember_good()
        if show or run.step % run.config.sample_every == 0:
            # a paced run shows every step, but keeps timeline frames and restore points every sample_every steps
            self._take_visuals(run, timeline=not (self._pace and self._running) or not len(run.restore_points) or
                               run.step % run.config.sample_every == 0)
        if self._limit_reached():
            self._finish_at_limit()

    def _finish_at_limit(self) -> None:
        """On the training thread, holding _run_lock: stop all work (continuous and queued) at the run's limit."""
        run = self.run
        with self._cv:
            self._running = False
            self._commands.clear()
            self._status_dirty = True
            if not self._finished:
                self._finished = True
                what = f"{self.max_steps} steps" if self.max_steps and run.step >= self.max_steps \
                    else f"{self.max_seconds:g} s of training"
                self._message = f"Finished: the run reached its limit of {what}."
                run.add_event("limit", self._message)
