"""Trainer: runs a GANRun on a background thread that a UI (or the CLI) steers live.

Commands (thread-safe; none blocks its caller for longer than one training step):
  start / pause / resume, step(n), step_d(), step_g(), set_knobs(...), reset(config, knobs), stop(), close().
Readers call ``snapshot()``: an immutable Snapshot of numpy arrays and uint8 images, swapped in under a lock by
the training thread, so a reader never waits for rendering and never sees a half-written state.

Locks: ``_cv`` (a Condition on ``_lock``) guards the command state and the published snapshot and is only held for
a few microseconds. ``_run_lock`` is held by the worker for each step, and by a caller that needs the models
(``with_run``); a waiting caller is served before the worker's next step (it registers in ``_waiters``).

The Trainer is built from parts, one job each, that share these locks and fields: this file holds the commands, the
access to the models and the reading of the command state; ganengine.trainer_loop the training thread and its
control loop; ganengine.trainer_publish the snapshot publication and the drawing of views; ganengine.trainer_restore
rewind and the rollback after a divergence. The Trainer knows nothing of any one family (ganengine.families).
"""
from __future__ import annotations

import copy
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Optional

from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.cost import COST_KNOBS, check_step_cost, step_flops
from ganengine.quality_monitor import QualityMonitor
from ganengine.run import Event, GANRun
from ganengine.snapshot import Snapshot
from ganengine.trainer_loop import TrainingLoop
from ganengine.trainer_publish import SnapshotPublishing
from ganengine.trainer_restore import RestoreControl

MAX_PACE = 1000.0       # the highest steps/s cap a watchable pace may ask for


class Trainer(TrainingLoop, SnapshotPublishing, RestoreControl):
    def __init__(self, *, config: Optional[RunConfig] = None, knobs: Optional[Knobs] = None, max_steps: int = 0,
                 max_seconds: float = 0.0, threads: Optional[int] = None, on_publish: Optional[Callable] = None,
                 on_rows: Optional[Callable] = None, quality_every: float = 0.0, quality_samples: int = 2500,
                 max_step_flops: float = 0.0):
        """max_steps / max_seconds (0 = none): training pauses with status "finished" when it reaches either; every
        step counts, continuous or queued. max_step_flops (0 = none): a setup (here, reset) or knob change
        (batch size, D steps, loss, penalties) whose estimated cost per iteration (ganengine.cost) is higher is
        refused with ConfigError before anything is built; ganengine.cost.PUBLIC_MAX_STEP_FLOPS is the public cap.
        on_publish(snapshot) is called on the training thread after each publication, and on_rows(rows, columns)
        with every gathered block of full-resolution metric rows (keep both cheap).
        quality_every > 0: every that many seconds of training, a separate thread evaluates a frozen copy of G
        (ganengine.metrics.evaluate) off the training thread; results appear in Snapshot.quality."""
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._run_lock = threading.Lock()
        self._waiters = 0
        self._threads = threads
        self._on_publish = on_publish
        self._on_rows = on_rows
        self.max_steps, self.max_seconds = int(max_steps), float(max_seconds)
        self.max_step_flops = float(max_step_flops)
        config, knobs = config or RunConfig(), knobs or Knobs()
        if self.max_step_flops:
            check_step_cost(config, knobs, None, self.max_step_flops)
        self._run_number = 0  # grows each time the run is replaced (reset, checkpoint loaded): Snapshot.run_number
        self._quality_samples = int(quality_samples)
        self.quality = QualityMonitor(take_job=self._quality_job, progress=self._progress,
                                      on_result=self.request_publish, every=quality_every)
        self.run = GANRun(config=config, knobs=knobs)
        self._render_next = None  # (run number, latest visuals job waiting to be drawn, timeline frame?) or None
        self._render_busy = False  # a drawing task of this trainer is queued or running (ganengine.render_pool)
        self._reset_control()
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self.run.remember_good()
        self._publish(status_hint="ready")

    def _reset_control(self) -> None:
        self._running = False
        self._stop_flag = False
        self._commands: deque = deque()      # ("both" | "d" | "g", count)
        self._target_knobs = self.run.knobs  # knobs once every queued change applies
        self._knobs_dirty = False
        self._status_dirty = False
        self._message = ""
        self._finished = False
        self._pace = getattr(self, "_pace", 0.0)
        self._due = 0.0                      # clock time the next paced continuous step may start
        self._version = getattr(self, "_version", 0)
        self._visuals_version = getattr(self, "_visuals_version", 0)
        self._visuals: dict = {}
        self._busy = False

    # ---- commands --------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Train continuously (resume after a pause). Does nothing after close()."""
        with self._cv:
            if self._closed:
                return
            at_limit = self._limit_reached()
            if at_limit:
                self._say_at_limit()
            else:
                self._running, self._finished, self._message = True, False, ""
                self._status_dirty = True
                self._ensure_thread()
                self._cv.notify_all()
        if at_limit and not self.alive:
            self._publish()

    resume = start

    def run_foreground(self) -> None:
        """Train on the calling thread until the run pauses, finishes or stops; commands from other threads work as
        usual. For headless use: with several OpenMP threads, torch runs small models up to 2.7x faster on the
        main thread than on a worker thread (measured on 2 cores; ganengine.device)."""
        with self._cv:
            if self.alive:
                raise RuntimeError("this trainer already trains on a background thread")
            self._running, self._finished, self._message = True, False, ""
            self._stop_flag, self._status_dirty, self._exit_when_idle = False, True, True
            self._thread = threading.current_thread()
        try:
            self._loop()
        finally:
            with self._cv:
                self._thread, self._exit_when_idle = None, False
            self._publish()

    _exit_when_idle = False

    def pause(self, *, keep_steps: bool = False) -> None:
        """Stop all work after the current step: continuous training and any queued step commands. keep_steps=True
        stops continuous training only, for a Step button that pauses before it queues its step (so a second click
        does not drop the first click's step when it has not started yet)."""
        with self._cv:
            if self._running:
                self._running, self._status_dirty = False, True
            if not keep_steps:
                self._commands.clear()
            self._cv.notify_all()
        if not self.alive:
            self._publish()

    def step(self, n: int = 1, kind: str = "both") -> bool:
        """Queue n iterations of a kind, one of the family's phases (gan: "both" = d_steps D updates then G, "d" =
        one D update, "g" = one G update).
        Queued steps count towards max_steps / max_seconds like any others: they stop at the limit. Returns False
        (and sets the snapshot's message, as start() does) when the run is already at its limit or closed."""
        phases = self.run.family.phases
        if kind not in phases:
            raise ConfigError(f"step kind must be {', '.join(phases[:-1])} or {phases[-1]}; got {kind!r}")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100_000:
            raise ConfigError(f"steps must be a whole number from 1 to 100000; got {n!r}")
        with self._cv:
            if self._closed:
                return False
            at_limit = self._limit_reached()
            if at_limit:
                self._say_at_limit()
            else:
                self._commands.append([kind, n])
                self._finished = False  # a raised limit lets a finished run take steps again
                self._ensure_thread()
                self._cv.notify_all()
        if at_limit and not self.alive:
            self._publish()
        return not at_limit

    def _say_at_limit(self) -> None:  # caller holds _cv; a worker publishes the message, else the caller must
        self._finished = True
        self._message = "The run reached its limit; raise the limit or reset to train more."
        self._status_dirty = True
        self._cv.notify_all()

    def step_d(self) -> None:
        self.step(1, "d")

    def step_g(self) -> None:
        self.step(1, "g")

    def set_pace(self, steps_per_second: float) -> float:
        """Cap continuous training at this many iterations per second (0 = full speed), so a person can watch a fast
        toy run unfold step by step; each paced step is also logged and drawn. Timing only: the run's numbers do not
        depend on it (exact replay holds). Returns the pace in use."""
        pace = float(steps_per_second)
        if not (pace >= 0 and pace <= MAX_PACE):
            raise ConfigError(f"the pace must be from 0 (full speed) to {MAX_PACE:g} steps per second")
        with self._cv:
            self._pace, self._due = pace, 0.0
            self._cv.notify_all()
        return pace

    @property
    def pace(self) -> float:
        return self._pace

    def knobs_now(self) -> Knobs:
        """The knobs once every accepted change applies (a snapshot shows them after the next step)."""
        with self._cv:
            return self._target_knobs

    def set_knobs(self, **changes) -> Knobs:
        """Change live settings (lr_g, lr_d, beta1, beta2, d_steps, loss, batch_size, label_smoothing, r1_weight,
        gp_weight, ema_decay, lr_decay_steps, lr_floor). Validated now (ConfigError, nothing changes); applied by
        the training thread before its next step; each change becomes an Event. Returns the resulting Knobs."""
        with self._cv:
            base = self._target_knobs
        new = base.with_changes(**changes)
        if new == base:
            return new
        self._check_knob_cost(base, new)  # outside the lock: an estimate takes milliseconds
        with self._cv:
            new = self._target_knobs.with_changes(**changes)
            if new == self._target_knobs:
                return new
            self._target_knobs, self._knobs_dirty = new, True
            worker = self._thread is not None and self._thread.is_alive()
            self._cv.notify_all()
        if not worker:
            self._apply_pending_knobs()
            self._publish()
        return new

    def _check_knob_cost(self, old: Knobs, new: Knobs) -> None:
        """ConfigError if new knobs push an iteration's estimated cost over max_step_flops (and above the old cost,
        so a run already over a lowered cap can still change its learning rate or come down)."""
        if not self.max_step_flops or all(getattr(old, f) == getattr(new, f) for f in COST_KNOBS):
            return
        run = self.run
        cost = check_step_cost(run.config, new, run.spec, 0).flops
        if cost > self.max_step_flops and cost > step_flops(run.config, old, run.spec):
            check_step_cost(run.config, new, run.spec, self.max_step_flops)

    def set_limits(self, *, max_steps: Optional[int] = None, max_seconds: Optional[float] = None,
                   max_step_flops: Optional[float] = None) -> None:
        """Change the limits (0 = none); a lower max_step_flops applies to the next setup or knob change."""
        with self._cv:
            if max_steps is not None:
                self.max_steps = int(max_steps)
            if max_seconds is not None:
                self.max_seconds = float(max_seconds)
            if max_step_flops is not None:
                self.max_step_flops = float(max_step_flops)

    def reset(self, *, config: Optional[RunConfig] = None, knobs: Optional[Knobs] = None) -> None:
        """Rebuild the run (new models, data, optimisers; step 0), paused. With no arguments: same settings.
        The new run is built before the old one is touched, so a ConfigError leaves the old run as it was."""
        with self._cv:
            knobs = knobs or self._target_knobs
        if self.max_step_flops:  # before anything is built; the same data keeps its exact shape
            check_step_cost(config or self.run.config, knobs, None if config else self.run.spec, self.max_step_flops)
        self._replace_run(GANRun(config=config or self.run.config, knobs=knobs))

    def _replace_run(self, new_run: GANRun) -> None:
        """Stop the thread and train ``new_run`` from now on, paused, with fresh command state and quality history."""
        self._halt_thread()
        with self._run_lock:
            self.run = new_run
            self.run.remember_good()
            self._run_number += 1  # visuals still being drawn for the old run are dropped
            with self._cv:
                self._render_next = None
        with self._cv:
            self._reset_control()
        self.quality.clear()
        self._publish(status_hint="ready")

    def load_checkpoint(self, ckpt: dict) -> None:
        """Continue a saved run (a validated checkpoint, ganengine.checkpoint.read_checkpoint): a run built from its
        settings takes its full training state (weights, EMA, optimisers, RNG, counters), paused. Training then
        goes on exactly as the saved run would have. CheckpointError if the state does not fit."""
        from ganengine.checkpoint import restore_run
        config = ckpt["_config"] if self.run.config.device == ckpt["_config"].device else \
            ckpt["_config"].with_changes(device=self.run.config.device)
        if self.max_step_flops:  # the same limit a new setup meets, before anything is built
            check_step_cost(config, ckpt["_knobs"], ckpt["_spec"], self.max_step_flops)
        new_run = GANRun(config=config, knobs=ckpt["_knobs"])
        restore_run(ckpt, new_run)
        new_run.add_event("resume", f"resumed at step {new_run.step}")
        self._replace_run(new_run)

    def adopt_run(self, run: GANRun, quality: tuple = ()) -> None:
        """Train ``run`` (built elsewhere, e.g. a branch: ganengine.branch) from now on, paused, with these earlier
        quality measurements."""
        self._replace_run(run)
        self.quality.extend(quality)
        self._publish()

    def stop(self, timeout: float = 2.0) -> bool:
        """End the training thread (it finishes its current step). Returns True if it ended within timeout."""
        return self._halt_thread(timeout)

    def close(self) -> None:
        """Stop for good and let the models be freed."""
        with self._cv:
            self._closed = True
        self._halt_thread()

    # ---- access to the models ----------------------------------------------------------------------------------
    @contextmanager
    def with_run(self):
        """Hold the run between two training steps: ``with trainer.with_run() as run: ...``. Keep it short.
        Knob changes already accepted are applied first (they would be before the next step anyway), so a
        checkpoint or a copy taken here has the knobs the visitor last set."""
        with self._cv:
            self._waiters += 1
        try:
            with self._run_lock:
                with self._cv:
                    knobs, dirty, self._knobs_dirty = self._target_knobs, self._knobs_dirty, False
                if dirty:
                    self.run.apply_knobs(knobs)
                yield self.run
        finally:
            with self._cv:
                self._waiters -= 1
                self._cv.notify_all()

    def generator_copy(self):
        """(a frozen eval-mode copy of the sampling generator, RunConfig, DataSpec): exploring it never disturbs training."""
        with self.with_run() as run:
            G = copy.deepcopy(run.sampler()).eval()
            G.requires_grad_(False)
            return G, run.config, run.spec

    # ---- reading --------------------------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no steps are queued, the run is not training and its snapshot says so (scripts, tests, the
        API's /pause and /step, whose answers must not show the state from before)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._commands or self._busy or self._render_busy or (self._running and not self._stop_flag) \
                    or (self._status_dirty and self.alive):    # a pause not yet published: the snapshot says running
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(remaining)
        return True

    @property
    def running(self) -> bool:
        """Whether the trainer is set to train continuously (ahead of the published snapshot's status)."""
        with self._lock:
            return self._running

    @property
    def working(self) -> bool:
        """Whether the trainer has work: training continuously, step commands queued, or in the middle of a step.
        (``running`` is only the first; a lease that should stop all work on a hidden page checks this one.)"""
        with self._lock:
            return self._running or bool(self._commands) or self._busy

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- quality measurements (ganengine.quality_monitor) -------------------------------------------------------
    def _quality_job(self):
        """(run number, step, seconds, the family's quality job), taken between two training steps."""
        with self.with_run() as run:
            return self._run_number, run.step, run.train_seconds, run.family.quality_job(self._quality_samples)

    def _progress(self):
        run = self.run
        return self._run_number, run.step, run.train_seconds

    def measure_quality(self) -> dict:
        """Evaluate the generator now, on the calling thread, and add it to Snapshot.quality."""
        return self.quality.measure()


__all__ = ["Event", "Snapshot", "Trainer"]
