"""QualityMonitor: measures a Trainer's generator every few seconds of training, off the training thread.

Each measurement asks the run's family for a quality job between two training steps (Trainer.with_run: it copies
the sampling net), then runs the job (for gan, ganengine.metrics.evaluate on 2,500 samples) on the monitor's thread, so training is held up only for the
copy. Results form a bounded history that the Trainer publishes in its Snapshot.
"""
from __future__ import annotations

import sys
import threading
import traceback
from collections import deque
from typing import Optional


class QualityMonitor:
    def __init__(self, trainer, *, every: float, samples: int = 2500, capacity: int = 400):
        """every: seconds of training between measurements (0 = only on demand)."""
        self.trainer, self.every, self.samples = trainer, float(every), int(samples)
        self._history: deque = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._wake = threading.Event()
        self._stop = False

    def history(self) -> tuple:
        with self._lock:
            return tuple(self._history)

    def clear(self) -> None:
        with self._lock:
            self._history.clear()

    def measure(self) -> dict:
        """Evaluate the current generator now (blocks the caller about a second) and record the result."""
        trainer = self.trainer
        with trainer.with_run() as run:
            measured_run, step, seconds = run, run.step, run.train_seconds
            job = run.family.quality_job(self.samples)  # frozen copies, taken between two training steps
        record = {"step": step, "time": seconds, **job()}
        with self._lock:
            if trainer.run is measured_run:  # not reset meanwhile
                self._history.append(record)
        trainer.request_publish()
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
        last_time, last_step = -1.0, -1
        while not self._stop:
            self._wake.wait(0.5)
            self._wake.clear()
            if self._stop:
                return
            run = self.trainer.run
            seconds, step = run.train_seconds, run.step
            if step == last_step or (last_time >= 0 and seconds - last_time < self.every):
                continue
            try:
                self.measure()
            except Exception:  # metrics must never take the trainer down
                traceback.print_exc(file=sys.stderr)
            last_time, last_step = seconds, step
