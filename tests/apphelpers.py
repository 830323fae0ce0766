"""Launch the real app in this process on a free port, for gradio_client and browser tests."""
import os
import socket
from contextlib import contextmanager

os.environ.setdefault("GRADIO_IS_E2E_TEST", "1")       # short heartbeats: a closed client is noticed in ~1 s
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(**settings):
    from playground.app import Playground, build_demo, launch_kwargs
    from playground.settings import Settings
    base = dict(max_trainers=2, lease_seconds=30.0, idle_seconds=60.0, allow_downloads=False)
    base.update(settings)
    playground = Playground(Settings(**base))
    playground.registry.start_reaper(interval=0.2)
    demo = build_demo(playground)
    demo.queue(max_size=64, default_concurrency_limit=4, api_open=False)   # as app.py
    port = free_port()
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                            **launch_kwargs(playground))
    try:
        yield playground, url
    finally:
        demo.close()
        playground.registry.shutdown()
