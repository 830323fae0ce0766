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


def launch(demo, playground, launch_kwargs, tries: int = 3) -> str:
    """demo.launch on a free port. Gradio 6.31 checks that its own server answers a HEAD within 3 s and gives up at
    the first timeout ("When localhost is not accessible, a shareable link must be created"): on a loaded machine
    that check can lose to the first request's start-up, so it is retried on a new port."""
    for attempt in range(tries):
        try:
            _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                                    quiet=True, **launch_kwargs(playground))
            return url
        except (ValueError, OSError) as err:   # OSError: its server did not start in time on the port picked
            if not ("localhost is not accessible" in str(err) or "Cannot find empty port" in str(err)) \
                    or attempt == tries - 1:
                raise
            demo.close()


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
    url = launch(demo, playground, launch_kwargs)
    try:
        yield playground, url
    finally:
        demo.close()
        playground.registry.shutdown()
