"""Load: 16 gradio_client visitors at once against `python app.py` in a subprocess, for several minutes.

Each visitor starts a training (or is refused a slot and told why), polls status, moves latent sliders through
`generate`, changes a knob, and leaves. Measured: errors, p95 latency of status and generate, the server's memory
over time, refusals and their message, and the trainers and threads left after everyone has gone.
Marked slow (python -m pytest -m slow tests/test_load.py); LOAD_SECONDS sets the duration (default 180).
The last results are written to bench/LOAD.md.
"""
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from apphelpers import free_port

ROOT = Path(__file__).resolve().parents[1]
VISITORS = 16


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * q / 100)))] if values else float("nan")


@pytest.mark.slow
def test_sixteen_visitors():
    from gradio_client import Client
    seconds = float(os.environ.get("LOAD_SECONDS", "180"))
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GAN_IDLE_SECONDS="20", GAN_LEASE_SECONDS="10",
               GRADIO_IS_E2E_TEST="1")
    env.pop("OMP_WAIT_POLICY", None)
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                probe = Client(url, verbose=False)
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(1)
        lat = {"status": [], "generate": []}
        errors, refusals, lock = [], [], threading.Lock()
        memory = []

        def visitor(i):
            rng = random.Random(i)
            try:
                c = Client(url, verbose=False)
                started = json.loads(c.predict(rng.choice(["ring8", "grid25", "dcgan-mnist", "moons"]), api_name="/start"))
                if not started["ok"]:
                    with lock:
                        refusals.append(started["message"])
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    t = time.perf_counter()
                    json.loads(c.predict(api_name="/status"))
                    t1 = time.perf_counter()
                    c.predict(rng.randint(0, 10**6), "pretrained", json.dumps([rng.uniform(-2, 2) for _ in range(8)]),
                              rng.randint(0, 9), api_name="/generate")
                    t2 = time.perf_counter()
                    with lock:
                        lat["status"].append(t1 - t)
                        lat["generate"].append(t2 - t1)
                    if rng.random() < 0.05 and started["ok"]:
                        c.predict(json.dumps({"lr_g": 10 ** rng.uniform(-4, -3)}), api_name="/set_knobs")
                    time.sleep(rng.uniform(0.5, 1.5))
                c.close()
            except Exception as err:
                with lock:
                    errors.append(f"visitor {i}: {type(err).__name__}: {err}")

        threads = [threading.Thread(target=visitor, args=(i,)) for i in range(VISITORS)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        while any(t.is_alive() for t in threads):
            memory.append((round(time.monotonic() - t0), rss_mb(server.pid)))
            time.sleep(5)
        for t in threads:
            t.join()
        left_at = time.monotonic()
        stats = json.loads(probe.predict(api_name="/server_stats"))
        while (stats["trainers"] > 0 or stats["sessions"] > 1) and time.monotonic() - left_at < 60:
            time.sleep(2)
            stats = json.loads(probe.predict(api_name="/server_stats"))
        freed_after = time.monotonic() - left_at
        threads_os = len(os.listdir(f"/proc/{server.pid}/task"))
        probe.close()
        report = {
            "visitors": VISITORS, "seconds": seconds, "errors": errors, "requests": len(lat["status"]) * 2,
            "status_p50_ms": 1000 * pct(lat["status"], 50), "status_p95_ms": 1000 * pct(lat["status"], 95),
            "generate_p50_ms": 1000 * pct(lat["generate"], 50), "generate_p95_ms": 1000 * pct(lat["generate"], 95),
            "refused": len(refusals), "refusal_message": refusals[0] if refusals else "",
            "rss_mb_start": memory[0][1] if memory else None, "rss_mb_peak": max(m for _, m in memory),
            "rss_mb_end": rss_mb(server.pid), "trainers_left": stats["trainers"], "sessions_left": stats["sessions"],
            "freed_within_s": round(freed_after, 1), "server_threads_after": threads_os,
            "python_threads_after": stats["threads"], "memory_trace": memory}
        lines = ["# Load test (tests/test_load.py)", "", f"Run {time.strftime('%Y-%m-%d %H:%M')}, "
                 f"{VISITORS} gradio_client visitors for {seconds:g} s against `python app.py` (default settings "
                 f"but GAN_IDLE_SECONDS=20, GAN_LEASE_SECONDS=10).", "", "```json",
                 json.dumps({k: v for k, v in report.items() if k != "memory_trace"}, indent=1), "```", "",
                 "Server RSS (MiB) every 5 s: " + ", ".join(f"{m:.0f}" for _, m in memory)]
        (ROOT / "bench" / "LOAD.md").write_text("\n".join(lines) + "\n")
        assert not errors, errors[:5]
        assert stats["trainers"] == 0, stats
        assert report["refused"] == VISITORS - 4 and "slots" in report["refusal_message"]
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
