"""Polling helper for tests that watch a background thread or a launched app."""
import time


def wait_for(pred, timeout: float = 10.0, every: float = 0.01) -> bool:
    """Call pred() every `every` seconds until it is true (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return False
