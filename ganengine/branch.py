"""Branches: fork a run at one of its restore points into a second, independent run that can take another path.

A restore point (ganengine.history.RestorePoints, one kept with each timeline frame) holds the run's full training
state at its step: weights, EMA copies, Adam moments, the noise and data RNG states, the family's extra state, the
counters and the knobs in use at that step. A branch is a new GANRun of the same config that loads that state, so
with the same knobs it trains bit-identically to its parent from the fork step on (the exact-replay property that
rewind relies on; tests/test_branch.py checks it). The visitor's change of knobs is then applied at the fork step,
as a live change is, and recorded as an event, so the branch's curves mark where the two paths part.

The branch starts with its parent's history up to the fork (metrics, timeline frames, restore points, events,
quality measurements), so its plots read as one run that went another way at the fork step. Nothing here touches
the parent's run except to read it between two of its training steps (``Trainer.with_run``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.run import GANRun


@dataclass(frozen=True)
class ForkPoint:
    """What a branch needs from its parent, copied between two of the parent's training steps."""
    step: int             # the restore point's step: where the branch starts
    asked: int            # the step the visitor pointed at (the fork goes to the latest restore point at or before it)
    config: RunConfig
    knobs: Knobs          # the knobs in use at the fork step (the parent's current ones for an older restore point)
    point: dict           # {"state", "counters", "knobs"}: shared with the parent, deep-copied before it is loaded
    history: object       # MetricHistory, FrameHistory, RestorePoints, events: copies cut at the fork step
    frames: object
    restore_points: object
    events: tuple
    quality: tuple        # the parent's quality measurements up to the fork step
    train_seconds: float


def take_fork_point(trainer, step: int) -> ForkPoint:
    """Copy what a branch at ``step`` needs from a Trainer, between two of its training steps (milliseconds: the
    restore point itself is shared, never written). ValueError when no restore point is that old."""
    with trainer.with_run() as run:
        found = run.restore_points.at_or_before(int(step))
        if found is None:
            raise ValueError(f"no restore point at or before step {step}")
        at, point = found
        history, frames = copy.deepcopy(run.history), copy.deepcopy(run.frames)
        restore_points = copy.copy(run.restore_points)    # truncate_after makes its own list: the parent's stays
        events = tuple(e for e in run.events if e.step <= at)
        config, knobs = run.config, point.get("knobs", run.knobs)
    for part in (history, frames, restore_points):
        part.truncate_after(at)
    quality = tuple(q for q in trainer.snapshot().quality if q["step"] <= at)
    return ForkPoint(step=at, asked=int(step), config=config, knobs=knobs, point=point, history=history,
                     frames=frames, restore_points=restore_points, events=events, quality=quality,
                     train_seconds=float(point["counters"]["train_seconds"]))


def branch_knobs(fork: ForkPoint, changes: dict) -> Knobs:
    """The branch's knobs: the fork step's with the visitor's changes (validated: ConfigError names a bad one)."""
    try:
        return fork.knobs.with_changes(**changes)
    except TypeError as err:
        raise ConfigError(str(err)) from None


def build_branch(fork: ForkPoint, changes: dict) -> GANRun:
    """A new GANRun at the fork step, exactly as the parent was there, then with ``changes`` applied (each one an
    event at the fork step). Builds models and data (a second or so for images): call it outside any lock."""
    knobs = branch_knobs(fork, changes)
    run = GANRun(config=fork.config, knobs=fork.knobs)
    state, counters = copy.deepcopy(fork.point["state"]), fork.point["counters"]
    run.load_training_state(state)                       # weights, EMA, Adam moments, RNG, the family's extra state
    run.set_counters(counters["step"], counters["updates"], counters["train_seconds"])
    run.history, run.frames, run.restore_points = fork.history, fork.frames, fork.restore_points
    run.timeline_epoch += 1                              # frames drawn for the parent never land in the branch
    run.events.extend(fork.events)
    said = "" if fork.step == fork.asked else f" (the restore point kept at or before step {fork.asked:,})"
    run.add_event("fork", f"branch forked at step {fork.step:,}{said}")
    if knobs != fork.knobs:
        run.apply_knobs(knobs)                           # the change: an event per knob, at the fork step
    run.remember_good()
    return run


def knob_differences(a: Knobs, b: Knobs) -> dict:
    """{knob: (a's value, b's value)} for every live setting that differs (a family's own ones included)."""
    da, db = a.to_dict(), b.to_dict()
    return {k: (da.get(k), db.get(k)) for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)}
