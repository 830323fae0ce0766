"""A visitor's branch: their second trainer, forked from their run (playground/branch_service.py), counted like any
trainer: it takes one of the server's slots while it is built or works, and at most MAX_BRANCHES per visitor.

BranchSlots is a part of SessionRegistry (playground/sessions.py), split out to keep one job per file: its methods use
the registry's lock (``_lock``), visitors (``_sessions``, ``session``), slot count (``_working_locked``, ``_no_slot``,
``max_trainers``, ``max_kept``, ``active_trainers_locked``), clock, and the build of a reserved slot outside the lock
(``_build_reserved``)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

from ganengine.trainer import Trainer
from playground.session_state import (MAX_BRANCHES, PENDING, NoSlot, SessionGone, branch_working, slots_used,
                                      spend)


def at_fork(info: dict):
    """The counters a dropped run had at the fork (what ``spend`` subtracts): its training after the fork is spent."""
    return SimpleNamespace(step=int(info.get("step", 0)), train_seconds=float(info.get("seconds", 0.0)))


class BranchSlots:
    """The branch half of SessionRegistry: build, claim, detach a visitor's branch; the page's slot counts."""

    def build_branch(self, sid: str, build: Callable[[], Trainer], info: dict) -> Trainer:
        """Build the visitor's branch with ``build()`` (outside the lock), counted like any trainer: it takes one of
        the server's slots while it is built or works. NoSlot when every slot is taken, the server keeps as many
        runs as it may, or the visitor has a branch already (MAX_BRANCHES)."""
        s = self.session(sid)
        with self._lock:
            if s.branch is not None:
                raise NoSlot(f"This page has a branch already ({1 + MAX_BRANCHES} runs per visitor: the run and "
                             f"one branch). Keep or discard it first.")
            if self._working_locked() >= self.max_trainers:
                raise self._no_slot()
            if self.active_trainers_locked() >= self.max_kept:
                raise NoSlot("The server keeps as many runs in memory as it may; try again in a minute.")
            s.branch, s.branch_info = PENDING, dict(info)
        trainer = self._build_reserved(sid, s, "branch", build, on_fail=lambda: setattr(s, "branch_info", {}))
        if trainer is None:
            raise SessionGone("this page was closed while its branch was being built")
        return trainer

    def claim_branch(self, sid: str, work: Callable[[Trainer], None]) -> None:
        """As ``claim``, for the visitor's branch: its work needs a slot of its own."""
        s = self.session(sid)
        with self._lock:
            branch = s.branch if isinstance(s.branch, Trainer) else None
            if self._sessions.get(sid) is not s or branch is None:
                raise SessionGone("this page has no branch")
            if not branch_working(s) and self._working_locked() >= self.max_trainers:
                raise self._no_slot()
            s.claimed_at = self._clock()
            work(branch)

    def take_branch(self, sid: str, *, promote: bool) -> tuple:
        """Detach the visitor's branch: (the trainer that goes, the branch info). promote=True makes the branch the
        visitor's run and returns the old run to close; else the branch itself goes. (None, {}) when none."""
        s = self.session(sid)
        with self._lock:
            if not isinstance(s.branch, Trainer) or not isinstance(s.trainer, Trainer):
                return None, {}
            info, s.branch_info = s.branch_info, {}
            if promote:
                gone, s.trainer, s.branch = s.trainer, s.branch, None
            else:
                gone, s.branch = s.branch, None
        return gone, info

    def close_branch(self, sid: str):
        """Close the visitor's branch (its training after the fork counts as spent): its last snapshot, or None
        when there was none. Called by Discard, and whenever the run it forked from is replaced."""
        gone, info = self.take_branch(sid, promote=False)
        if gone is None:
            return None
        snap = gone.snapshot()
        gone.close()
        spend(self.session(sid), snap, at_fork(info))
        return snap

    def slot_counts(self, sid: str) -> dict:
        """This visitor's trainers and working ones, and the server's slots in use and in all (the page says them)."""
        with self._lock:
            s = self._sessions.get(sid)
            mine = 0 if s is None else (s.trainer is not None) + (s.branch is not None)
            return {"mine": mine, "mine_working": 0 if s is None else slots_used(s), "per_visitor": 1 + MAX_BRANCHES,
                    "working": self._working_locked(), "max_trainers": self.max_trainers}
