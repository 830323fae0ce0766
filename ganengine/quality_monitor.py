"""QualityMonitor: measures a run's sampling nets every few seconds of training, off the training thread.

It knows nothing of the Trainer: it is given three functions. ``take_job()`` is called between two training steps
and returns (run number, step, seconds trained, job): the family's quality job over frozen copies of its nets (for
gan, ganengine.metrics.evaluate on 2,500 samples); the monitor runs the job on its own thread, so training is held
up only for the copy. ``progress()`` gives (run number, step, seconds trained) cheaply; ``on_result()`` is told of
each new record. A record whose run number is no longer the current one (the run was reset or replaced while it was
measured) is dropped. Results form a bounded history that the Trainer publishes in its Snapshot.
"""
from __future__ import annotations

import sys
import threading
import traceback
from collections import deque
from typing import Callable, Optional


class QualityMonitor:
    def __init__(self, *, take_job: Callable, progress: Callable, on_result: Callable, every: float,
                 capacity: int = 400):
        """every: seconds of training between measurements (0 = only on demand)."""
        self.take_job, self.progress, self.on_result = take_job, progress, on_result
        self.every = float(every)
        self._history: deque = deque(maxlen=capacity)
        self._generation = 0     # grows when the history is cut: a measurement taken before is dropped
        self._cut_at = 0.0       # the run's seconds trained when the history was last cut (the clock restarts there)
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._wake = threading.Event()
        self._stop = False

    def history(self) -> tuple:
        with self._lock:
            return tuple(self._history)

    def clear(self) -> None:
        seconds = self.progress()[2]
        with self._lock:
            self._history.clear()
            self._generation += 1
            self._cut_at = seconds

    def truncate_after(self, step: int) -> None:
        """Forget the measurements after ``step`` (the run was rewound there), and one in flight."""
        seconds = self.progress()[2]
        with self._lock:
            kept = [r for r in self._history if r["step"] <= step]
            self._history.clear()
            self._history.extend(kept)
            self._generation += 1
            self._cut_at = seconds

    def extend(self, records) -> None:
        """Add earlier measurements (a branch starts with its parent's, up to the fork)."""
        with self._lock:
            self._history.extend(dict(r) for r in records)

    def measure(self) -> dict:
        """Evaluate the current nets now (blocks the caller about a second) and record the result."""
        with self._lock:
            generation = self._generation
        run_number, step, seconds, job = self.take_job()  # frozen copies, taken between two training steps
        record = {"step": step, "time": seconds, **job()}
        with self._lock:
            if self.progress()[0] == run_number and self._generation == generation:  # not reset, replaced, rewound
                self._history.append(record)
        self.on_result()
        return record

    def start(self) -> None:
        if self.every > 0 and (self._thread is None or not self._thread.is_alive()):
            self._stop = False
            self._thread = threading.Thread(target=self._loop, name="gan-quality", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        last_time, last_step, seen = -1.0, -1, self._generation
        while not self._stop:
            self._wake.wait(0.5)
            self._wake.clear()
            if self._stop:
                return
            _, step, seconds = self.progress()
            with self._lock:
                generation, cut_at = self._generation, self._cut_at
            if generation != seen:   # rewound, rolled back or reset: the clock restarts where the run was cut
                seen, last_step = generation, -1
                last_time = cut_at if cut_at > 0 else -1.0   # 0: a fresh run, measured at once
            if step == last_step or (last_time >= 0 and seconds - last_time < self.every):
                continue
            try:
                self.measure()
            except Exception:  # metrics must never take the trainer down
                traceback.print_exc(file=sys.stderr)
            last_time, last_step = seconds, step
