"""Many visitors who open the app, start and restart runs, then vanish without a word (issue 10): everything they
held goes back to the baseline (trainers, training threads, sessions, private folders)."""
import json
import tempfile
import threading
import time
from pathlib import Path

from apphelpers import running_app
from waiting import wait_for


def visitor_dirs() -> set:
    return set(Path(tempfile.gettempdir()).glob("gan-visitor-*"))


def training_threads() -> list:
    """Threads of trainers and their quality monitors (names set in ganengine)."""
    return [t.name for t in threading.enumerate() if t.name.startswith(("gan-trainer", "gan-quality"))]


def test_abandoned_visitors_and_start_spam_leave_nothing_behind():
    from gradio_client import Client
    started = time.monotonic()
    with running_app(max_trainers=2, lease_seconds=30.0, idle_seconds=5.0) as (playground, url):
        probe = Client(url, verbose=False)
        dirs_before = visitor_dirs()
        clients = [Client(url, verbose=False) for _ in range(10)]
        replies = []
        for c in clients:
            replies.append(json.loads(c.predict("ring8", api_name="/start")))
            assert playground.registry.stats()["alive"] <= 2      # never more trainings than slots
        assert any(not r["ok"] and "slots" in r["message"] for r in replies)
        spammer = clients[0]
        for preset in ["ring8", "grid25", "moons", "spiral"] * 3:  # start/rebuild spam by one visitor
            json.loads(spammer.predict(preset, api_name="/start"))
        assert playground.registry.stats()["alive"] <= 2
        for c in clients[:3]:
            c.predict(7, "pretrained", "[1, 2]", 3, api_name="/generate")
        # everyone vanishes: no /leave, no tab-close beacon
        assert wait_for(lambda: playground.registry.stats()["sessions"] <= 1, timeout=30, every=0.5)
        stats = playground.registry.stats()
        assert stats["trainers"] == 0 and stats["alive"] == 0 and stats["working"] == 0, stats
        for c in clients:
            c.close()
        assert wait_for(lambda: not training_threads(), timeout=10), training_threads()
        assert visitor_dirs() <= dirs_before
        assert json.loads(probe.predict(api_name="/server_stats"))["alive"] == 0
    assert time.monotonic() - started < 90
