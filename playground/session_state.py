"""A visitor's record (VisitorSession) and the slot accounting the registry does with it: which of the visitor's
trainers work (each working one holds one of the server's slots), and the page's training budget across trainers.
No Gradio here; playground/sessions.py (the registry) and playground/session_branches.py use these."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Optional

from ganengine.trainer import Trainer

MAX_BRANCHES = 1      # a visitor's runs: their run and at most this many branches of it (each working one: a slot)


class NoSlot(Exception):
    """Every training slot is taken."""


class SessionGone(Exception):
    """The visitor left (the page was closed) while their request was being served."""


@dataclass
class VisitorSession:
    sid: str
    last_seen: float
    trainer: Optional[Trainer] = None
    paused_by_lease: bool = False
    resume_on_return: bool = False                # the lease paused a continuous run (not only queued steps)
    claimed_at: float = float("-inf")             # last Start/Step/build (the longest idle is freed first)
    spent_steps: int = 0                          # training done by this page's earlier trainers (the budget spans them)
    spent_seconds: float = 0.0
    paid_from_step: int = 0                       # the current run's training counts against the budget from this
    paid_from_seconds: float = 0.0                # step / train second on (0; a loaded checkpoint's own counters)
    sent: dict = field(default_factory=dict)      # versions already sent to this page, to skip unchanged outputs
    explore: dict = field(default_factory=dict)   # the Explore tab's state (generator source, directions)
    views: dict = field(default_factory=dict)     # the Train tab's view toggles ("manifold", "scores": bool)
    setup: Optional[tuple] = None                 # (RunConfig, Knobs) chosen before a trainer exists
    setup_reply: tuple = ()                       # ((RunConfig, Knobs), the answer) of the last rebuild
    workdir: Optional[str] = None                 # this visitor's private folder (uploads, exports), removed on drop
    saves: list = field(default_factory=list)     # checkpoints this page saved (the newest few are kept)
    last_save: float = float("-inf")
    preset: str = ""                              # the preset last chosen (the page's link names it)
    pace: float = 0.0                             # watchable speed: steps/s cap of continuous training (0 = full)
    notice: str = ""                              # told once to a visitor who comes back after being freed
    branch: Optional[Trainer] = None              # a second run forked from the first (playground/branch_service.py)
    branch_info: dict = field(default_factory=dict)  # the fork: step, changes, the parent's run number
    resume_branch: bool = False                   # the lease paused a continuously training branch
    lock: threading.RLock = field(default_factory=threading.RLock)  # serialises this visitor's rebuilds

    @property
    def live_trainer(self) -> Optional[Trainer]:
        """The visitor's trainer once built (None while none exists or one is being built)."""
        return self.trainer if isinstance(self.trainer, Trainer) else None


def trainer_working(trainer) -> bool:
    """Whether a trainer uses the CPU now: training continuously, queued steps, or mid-step."""
    working = getattr(trainer, "working", None)
    return bool(trainer.running if working is None else working)

def branch_working(s: VisitorSession) -> int:
    """1 when the visitor's branch is being built or has work (it holds one of the server's slots), else 0."""
    return int(s.branch is PENDING or (s.branch is not None and trainer_working(s.branch)))


def slots_used(s: VisitorSession) -> int:
    """The server slots a visitor holds: one for their run while it works, one for their branch while it works."""
    return int(is_working(s)) + branch_working(s)


def is_working(s: VisitorSession) -> bool:
    """Whether the visitor holds a slot: their trainer is being built, trains, or has queued steps."""
    return s.trainer is PENDING or (s.trainer is not None and trainer_working(s.trainer))


def spend(s: VisitorSession, before, after=None) -> None:
    """When a run's counters go back (a reset or a freed trainer: to 0; a rewind: to an earlier step), add the
    training they forget to the page's spent budget, so resets and rewinds never refresh the limits.
    before, after: the trainer's snapshots around the change (after None = back to 0)."""
    s.spent_steps += max(int(before.step) - (int(after.step) if after else 0), 0)
    s.spent_seconds += max(float(before.train_seconds) - (float(after.train_seconds) if after else 0.0), 0.0)


def remaining_budget(s: VisitorSession, max_steps: int, max_seconds: float) -> Optional[tuple[int, float]]:
    """What is left of the page's budget for its current run (0 = no limit) counted from the run's paid_from
    counters, or None when the page has used its whole budget. The page's training so far is
    spent + (the run's step - paid_from_step): a run's limit is paid_from + what is left."""
    steps = max_steps - s.spent_steps if max_steps else 0
    seconds = max_seconds - s.spent_seconds if max_seconds else 0.0
    if (max_steps and steps <= 0) or (max_seconds and seconds <= 0):
        return None
    return steps, seconds


class Pending:
    """Placeholder that holds a slot while a trainer is being built."""

    running = False

    def snapshot(self):
        raise RuntimeError("trainer is being built")


PENDING = Pending()
