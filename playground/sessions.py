"""One trainer per browser session, with a cap on working trainers, leases, budgets and a reaper. No Gradio here.

Rules (README "Limits and safety"):
- A *slot* is for training, not for an open tab: at most ``max_trainers`` trainers may be working at once (training
  continuously, running queued steps, or being built). A paused or finished run keeps its models but no slot; Start
  or Step claims one again (``claim`` checks and starts under one lock, so two visitors cannot take the last slot
  together), or is told politely that all are taken.
- At most ``max_kept`` trainers stay in memory; when a new one is needed beyond that, the one idle the longest is freed
  (its visitor is told why when they come back).
- Every page refresh and API call renews the visitor's lease (``session``). The reaper pauses any work of a visitor whose
  lease is older than ``lease_seconds`` (a hidden tab) and resumes a continuous run when the visitor is back and a slot
  is free; it frees everything of a visitor silent for ``idle_seconds``.
- Nothing runs that the registry does not count: a trainer finished building after its visitor left is closed at once,
  and the reaper closes any trainer the registry built that is alive but attached to no session.
- Budgets: a run's training limits (steps, seconds) belong to the page, not to one trainer: the training a visitor's
  earlier trainers did is carried into the limits of the next one (``budget``).
- Branches: a visitor may fork their run once (MAX_BRANCHES) into a second trainer (``build_branch``); each of the
  visitor's trainers takes one of the server's ``max_trainers`` slots while it works, exactly as two visitors' would.
``drop`` (the page left) closes a visitor's trainer at once. Trainers are stopped outside the registry lock: stopping
waits for the current training step.
"""
from __future__ import annotations

import ctypes
import gc
import shutil
import threading
import time
import weakref
from typing import Callable, Optional

from ganengine.trainer import Trainer
from playground.session_branches import BranchSlots
from playground.session_state import (MAX_BRANCHES, PENDING, NoSlot, SessionGone, VisitorSession, branch_working,
                                      is_working, remaining_budget, slots_used, spend, trainer_working)

__all__ = ["EVICT_AFTER", "MAX_BRANCHES", "NoSlot", "SessionGone", "VisitorSession", "trainer_working",
           "SessionRegistry", "slots_used", "spend", "remaining_budget", "return_memory"]

EVICT_AFTER = 30.0    # a trainer must have been idle this long before another visitor's build may free it


class SessionRegistry(BranchSlots):
    """The visitors' sessions and trainers under one lock; a visitor's branch: BranchSlots (session_branches.py)."""

    def __init__(self, *, max_trainers: int, lease_seconds: float, idle_seconds: float,
                 max_kept: Optional[int] = None, trainer_factory: Callable[..., Trainer] = Trainer,
                 clock: Callable[[], float] = time.monotonic):
        self.max_trainers = max_trainers
        self.max_kept = max(max_kept or 3 * max_trainers, max_trainers)
        self.lease_seconds, self.idle_seconds = lease_seconds, idle_seconds
        self._factory, self._clock = trainer_factory, clock
        self._lock = threading.Lock()
        self._sessions: dict[str, VisitorSession] = {}
        self._built: "weakref.WeakSet[Trainer]" = weakref.WeakSet()  # every trainer built, to find orphans
        self._freed: dict[str, str] = {}  # sid -> why its trainer was freed (bounded), for a visitor who comes back
        self._reaper: Optional[threading.Thread] = None
        self._stop = threading.Event()

    # ---- visitors --------------------------------------------------------------------------------------------
    def session(self, sid: str) -> VisitorSession:
        """The visitor's session (created on first sight), its lease renewed; a run the lease paused resumes if a
        slot is free."""
        if not sid:
            raise ValueError("no session id")
        with self._lock:
            now = self._clock()
            s = self._sessions.get(sid)
            if s is None:
                s = self._sessions[sid] = VisitorSession(sid=sid, last_seen=now, notice=self._freed.pop(sid, ""))
            s.last_seen = now
            if s.paused_by_lease:
                s.paused_by_lease = False
                if s.resume_on_return and s.live_trainer is not None:
                    if self._working_locked(exclude=s) + branch_working(s) < self.max_trainers:
                        s.claimed_at = now
                        s.live_trainer.start()
                    else:
                        s.notice = ("Your run was paused while this page was hidden, and every training slot is now "
                                    "in use: press Start to try again.")
                s.resume_on_return = False
                if s.resume_branch and isinstance(s.branch, Trainer) and \
                        self._working_locked() < self.max_trainers:
                    s.branch.start()
                s.resume_branch = False
        return s

    def sessions(self) -> list[VisitorSession]:
        """The current visitors' sessions (a copy of the list)."""
        with self._lock:
            return list(self._sessions.values())

    def peek(self, sid: str) -> Optional[VisitorSession]:
        with self._lock:
            return self._sessions.get(sid)

    def _working_locked(self, exclude: Optional[VisitorSession] = None) -> int:
        """Slots in use: each working trainer of a visitor (the run, and a branch: ``slots_used``) takes one."""
        return sum(slots_used(s) for s in self._sessions.values() if s is not exclude)

    def _no_slot(self) -> NoSlot:
        return NoSlot(f"All {self.max_trainers} training slots are in use by other visitors. Try again in a "
                      f"minute; meanwhile the Explore tab's pretrained generator works without a slot.")

    def claim(self, sid: str, work: Callable[[Trainer], None]) -> None:
        """Take a working slot for the visitor's trainer and give it work (``work(trainer)``: start it, queue steps)
        under the registry lock, so the slot count and the work agree. NoSlot when every slot is taken."""
        s = self.session(sid)
        with self._lock:
            trainer = s.live_trainer
            if self._sessions.get(sid) is not s or trainer is None:
                raise SessionGone("this page was closed")
            if not is_working(s) and self._working_locked(exclude=s) + branch_working(s) >= self.max_trainers:
                raise self._no_slot()
            s.claimed_at = self._clock()
            work(trainer)

    def trainer(self, sid: str, **trainer_kwargs) -> Trainer:
        """The visitor's trainer, created with trainer_kwargs if they have none; NoSlot when every working slot is
        taken (or every kept trainer is busy). Building counts as working."""
        s = self.session(sid)
        evict = None
        with self._lock:
            if s.trainer is not None:
                return s.trainer
            now = self._clock()
            if self._working_locked() >= self.max_trainers:
                raise self._no_slot()
            kept = [o for o in self._sessions.values() if o.trainer is not None]
            if self.active_trainers_locked() >= self.max_kept:   # runs and branches: each is a model in memory
                idle = [o for o in kept if not slots_used(o) and now - o.claimed_at >= EVICT_AFTER]
                if not idle:
                    raise self._no_slot()
                evict = min(idle, key=lambda o: o.claimed_at)
                evict.notice = ("Your paused run was freed to make room for another visitor (a paused run keeps its "
                                "models only while the server has room). Press Start for a new one.")
                evict_trainer, evict.trainer = evict.trainer, None
                evict_branch, evict.branch, evict.branch_info = evict.branch, None, {}   # a branch goes with its run
                spend(evict, evict_trainer.snapshot())
            s.trainer, s.claimed_at = PENDING, now  # reserve the slot while building outside the lock
        if evict is not None:
            evict_trainer.close()
            if isinstance(evict_branch, Trainer):
                evict_branch.close()
        trainer = self._build_reserved(sid, s, "trainer", lambda: self._factory(**trainer_kwargs))
        if trainer is None:  # the page left while its trainer was built: nothing may run that is not counted
            return_memory()
            raise SessionGone("this page was closed while its trainer was being built")
        return trainer

    def _build_reserved(self, sid: str, s: VisitorSession, slot: str, build: Callable[[], Trainer],
                        on_fail: Optional[Callable[[], None]] = None) -> Optional[Trainer]:
        """Build the trainer of the visitor's ``slot`` ("trainer" or "branch"), reserved (PENDING) by the caller under
        the lock, with ``build()`` outside it. A failed build undoes the reservation (and ``on_fail()``) under the
        lock. Returns the trainer, attached and in ``_built``; or None, closed, if the page left meanwhile."""
        try:
            trainer = build()
        except BaseException:
            with self._lock:
                if getattr(s, slot) is PENDING:
                    setattr(s, slot, None)
                    if on_fail is not None:
                        on_fail()
            raise
        with self._lock:
            attached = self._sessions.get(sid) is s and getattr(s, slot) is PENDING
            if attached:
                setattr(s, slot, trainer)
                self._built.add(trainer)
        if not attached:
            trainer.close()
            return None
        return trainer

    def active_trainers_locked(self) -> int:
        return sum((s.trainer is not None) + (s.branch is not None) for s in self._sessions.values())

    def drop(self, sid: str) -> bool:
        """The visitor left: close their trainer, delete their files, forget them. Returns whether they existed."""
        with self._lock:
            s = self._sessions.pop(sid, None)
        if s is not None:
            _close(s)
        return s is not None

    # ---- reaper ----------------------------------------------------------------------------------------------
    def sweep(self) -> dict:
        """Pause stale work, free silent visitors, close orphans. Returns what it did (for tests and logs)."""
        now = self._clock()
        to_pause, to_close = [], []
        with self._lock:
            for sid, s in list(self._sessions.items()):
                age = now - s.last_seen
                if age > self.idle_seconds:
                    del self._sessions[sid]
                    if s.trainer is not None:
                        self._freed[sid] = (f"Your previous run was stopped and freed after {self.idle_seconds:g} s "
                                            f"without contact from this page. Press Start for a new one.")
                        while len(self._freed) > 10_000:
                            self._freed.pop(next(iter(self._freed)))
                    to_close.append(s)
                elif age > self.lease_seconds and isinstance(s.trainer, Trainer) and not s.paused_by_lease \
                        and trainer_working(s.trainer):
                    s.paused_by_lease, s.resume_on_return = True, s.trainer.running
                    to_pause.append(s.trainer)
                if self.idle_seconds >= age > self.lease_seconds and isinstance(s.branch, Trainer) and \
                        trainer_working(s.branch):
                    s.paused_by_lease, s.resume_branch = True, s.branch.running
                    to_pause.append(s.branch)
            attached = {id(t) for s in [*self._sessions.values(), *to_close] for t in (s.trainer, s.branch)}
            orphans = [t for t in list(self._built) if id(t) not in attached and t.alive]
        for t in to_pause:
            t.pause()
        for s in to_close:
            _close(s)
        for t in orphans:
            t.close()
        return {"paused": len(to_pause), "closed": len(to_close), "orphans": len(orphans)}

    def start_reaper(self, interval: float = 1.0) -> None:
        if self._reaper is not None:
            return

        def loop():
            while not self._stop.wait(interval):
                try:
                    self.sweep()
                except Exception as err:  # never let the reaper die
                    print(f"session reaper: {type(err).__name__}: {err}")

        self._reaper = threading.Thread(target=loop, name="session-reaper", daemon=True)
        self._reaper.start()

    def shutdown(self) -> None:
        self._stop.set()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for s in sessions:
            _close(s)

    def stats(self) -> dict:
        """Counts only. ``trainers``: kept in memory; ``working``: holding a slot; ``running``: training
        continuously; ``alive``: training threads of every trainer built, attached or not (0 orphans means equal)."""
        with self._lock:
            live = [t for s in self._sessions.values() for t in (s.trainer, s.branch) if isinstance(t, Trainer)]
            return {"sessions": len(self._sessions), "trainers": self.active_trainers_locked(),
                    "working": self._working_locked(), "running": sum(1 for t in live if t.running),
                    "alive": sum(1 for t in list(self._built) if t.alive), "max_trainers": self.max_trainers}


def _close(s: VisitorSession) -> None:
    had_trainer = isinstance(s.trainer, Trainer) or isinstance(s.branch, Trainer)
    for t in (s.trainer, s.branch):
        if isinstance(t, Trainer):
            t.close()
    s.trainer = s.branch = None
    s.explore.clear()
    if s.workdir:
        shutil.rmtree(s.workdir, ignore_errors=True)
    if had_trainer:
        return_memory()


def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


_MALLOC_TRIM = _malloc_trim()


def return_memory() -> None:
    """Hand a freed trainer's memory back to the OS. glibc keeps freed heap pages for reuse, so without malloc_trim
    the process stayed ~135 MiB larger after four DCGAN visitors left (bench/RESULTS.md, memory per visitor)."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
