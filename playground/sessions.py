"""One trainer per browser session, with a cap, leases and a reaper. No Gradio here: sessions are keyed by a string.

- A visitor gets a Trainer on their first Start or Step, if fewer than ``max_trainers`` exist; otherwise NoSlot.
- Every page refresh (the UI's timer tick) and every API call renews the visitor's lease (``touch``).
- The reaper pauses a running trainer whose lease is older than ``lease_seconds`` (a hidden tab stops ticking) and
  resumes it when the visitor is back; it closes and frees everything of a visitor silent for ``idle_seconds``.
- ``drop`` (the page's unload event) closes a visitor's trainer at once.
Trainers are stopped outside the registry lock: stopping waits for the current training step.
"""
from __future__ import annotations

import ctypes
import gc
import shutil
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from ganengine.trainer import Trainer


class NoSlot(Exception):
    """Every training slot is taken."""


@dataclass
class VisitorSession:
    sid: str
    last_seen: float
    trainer: Optional[Trainer] = None
    paused_by_lease: bool = False
    sent: dict = field(default_factory=dict)      # versions already sent to this page, to skip unchanged outputs
    explore: dict = field(default_factory=dict)   # the Explore tab's state (generator source, directions)
    setup: Optional[tuple] = None                 # (RunConfig, Knobs) chosen before a trainer exists
    workdir: Optional[str] = None                 # this visitor's private folder (extracted uploads), removed on drop
    notice: str = ""                              # told once to a visitor who comes back after being freed
    lock: threading.RLock = field(default_factory=threading.RLock)  # serialises this visitor's rebuilds

    @property
    def live_trainer(self) -> Optional[Trainer]:
        """The visitor's trainer once built (None while none exists or one is being built)."""
        return self.trainer if isinstance(self.trainer, Trainer) else None


class SessionRegistry:
    def __init__(self, *, max_trainers: int, lease_seconds: float, idle_seconds: float,
                 trainer_factory: Callable[..., Trainer] = Trainer, clock: Callable[[], float] = time.monotonic):
        self.max_trainers = max_trainers
        self.lease_seconds, self.idle_seconds = lease_seconds, idle_seconds
        self._factory, self._clock = trainer_factory, clock
        self._lock = threading.Lock()
        self._sessions: dict[str, VisitorSession] = {}
        self._freed: dict[str, str] = {}  # sid -> why its trainer was freed (bounded), for a visitor who comes back
        self._reaper: Optional[threading.Thread] = None
        self._stop = threading.Event()

    # ---- visitors --------------------------------------------------------------------------------------------
    def session(self, sid: str) -> VisitorSession:
        """The visitor's session (created on first sight), its lease renewed."""
        if not sid:
            raise ValueError("no session id")
        resume = None
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                s = self._sessions[sid] = VisitorSession(sid=sid, last_seen=self._clock(),
                                                         notice=self._freed.pop(sid, ""))
            s.last_seen = self._clock()
            if s.paused_by_lease and s.trainer is not None:
                s.paused_by_lease, resume = False, s.trainer
        if resume is not None:
            resume.start()
        return s

    def peek(self, sid: str) -> Optional[VisitorSession]:
        with self._lock:
            return self._sessions.get(sid)

    def trainer(self, sid: str, **trainer_kwargs) -> Trainer:
        """The visitor's trainer, created with trainer_kwargs if they have none; NoSlot when the cap is reached."""
        s = self.session(sid)
        with self._lock:
            if s.trainer is not None:
                return s.trainer
            if self.active_trainers_locked() >= self.max_trainers:
                raise NoSlot(f"All {self.max_trainers} training slots are in use by other visitors. Try again in a "
                             f"minute; meanwhile the Explore tab's pretrained generator works without a slot.")
            s.trainer = _PENDING  # reserve the slot while building outside the lock
        try:
            trainer = self._factory(**trainer_kwargs)
        except BaseException:
            with self._lock:
                s.trainer = None
            raise
        with self._lock:
            s.trainer = trainer
        return trainer

    def active_trainers_locked(self) -> int:
        return sum(1 for s in self._sessions.values() if s.trainer is not None)

    def release_trainer(self, sid: str) -> None:
        """Close and forget the visitor's trainer (they keep their session)."""
        with self._lock:
            s = self._sessions.get(sid)
            trainer = s.trainer if s else None
            if s:
                s.trainer, s.paused_by_lease = None, False
        if isinstance(trainer, Trainer):
            trainer.close()
            return_memory()

    def drop(self, sid: str) -> None:
        """The visitor left: close their trainer, delete their files, forget them."""
        with self._lock:
            s = self._sessions.pop(sid, None)
        if s is not None:
            _close(s)

    # ---- reaper ----------------------------------------------------------------------------------------------
    def sweep(self) -> dict:
        """Pause stale runs, free silent visitors. Returns what it did (for tests and logs)."""
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
                        and s.trainer.running:
                    s.paused_by_lease = True
                    to_pause.append(s.trainer)
        for t in to_pause:
            t.pause()
        for s in to_close:
            _close(s)
        return {"paused": len(to_pause), "closed": len(to_close)}

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
        with self._lock:
            return {"sessions": len(self._sessions), "trainers": self.active_trainers_locked(),
                    "running": sum(1 for s in self._sessions.values() if isinstance(s.trainer, Trainer) and s.trainer.running),
                    "max_trainers": self.max_trainers}


def _close(s: VisitorSession) -> None:
    had_trainer = isinstance(s.trainer, Trainer)
    if had_trainer:
        s.trainer.close()
    s.trainer = None
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


class _Pending:
    """Placeholder that holds a slot while a trainer is being built."""

    def snapshot(self):
        raise RuntimeError("trainer is being built")


_PENDING = _Pending()
