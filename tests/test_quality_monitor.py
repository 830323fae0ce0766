"""QualityMonitor's clock: after a rewind (or a reset) it measures every few seconds of training from where the run
now is, not only once the run has trained past the time it had before going back."""
import threading

from ganengine.quality_monitor import QualityMonitor
from waiting import wait_for


class FakeRun:
    """A run's progress that the test moves by hand: (run number, step, seconds trained)."""

    def __init__(self):
        self.step, self.seconds, self.lock = 0, 0.0, threading.Lock()

    def progress(self):
        with self.lock:
            return 0, self.step, self.seconds

    def take_job(self):
        run_number, step, seconds = self.progress()
        return run_number, step, seconds, lambda: {"score": float(step)}

    def move(self, step, seconds):
        with self.lock:
            self.step, self.seconds = step, seconds


def steps(monitor):
    return [r["step"] for r in monitor.history()]


def test_measures_again_soon_after_a_rewind():
    run = FakeRun()
    monitor = QualityMonitor(take_job=run.take_job, progress=run.progress, on_result=lambda: None, every=5.0)
    monitor.start()
    try:
        assert wait_for(lambda: steps(monitor) == [0])
        run.move(400, 40.0)                      # trained 40 s: measured again
        assert wait_for(lambda: steps(monitor)[-1:] == [400])
        run.move(200, 20.0)                      # rewound to step 200 (20 s of training)
        monitor.truncate_after(200)
        assert steps(monitor) == [0]
        run.move(260, 26.0)                      # at once: 6 s past the rewind point, due again
        assert wait_for(lambda: steps(monitor)[-1:] == [260]), steps(monitor)
    finally:
        monitor.stop()


def test_measures_at_once_after_a_reset():
    run = FakeRun()
    monitor = QualityMonitor(take_job=run.take_job, progress=run.progress, on_result=lambda: None, every=5.0)
    monitor.start()
    try:
        run.move(500, 50.0)
        assert wait_for(lambda: 500 in steps(monitor))
        run.move(0, 0.0)                         # reset: new weights, no training yet
        monitor.clear()
        assert wait_for(lambda: steps(monitor) == [0]), steps(monitor)
        run.move(70, 6.0)
        assert wait_for(lambda: steps(monitor) == [0, 70]), steps(monitor)
    finally:
        monitor.stop()
