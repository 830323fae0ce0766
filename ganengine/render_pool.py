"""The thread that draws trainers' views (image grids, strips, the 2-D field) off their training threads.

One thread for the whole process, shared by every trainer: drawing is a few forward passes of small nets on a few
dozen inputs, and a single drawer keeps the CPU for training (on a 2-core machine a second drawer would only
compete with the training threads). Each trainer keeps at most one job waiting (ganengine.trainer_publish), so a slow
drawer makes timelines skip frames instead of queueing work.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_pool = None
_lock = threading.Lock()


def render_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gan-render")
        return _pool
