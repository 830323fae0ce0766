"""Load: 16 gradio_client visitors at once against `python app.py` in a subprocess, for several minutes.

Two cases (issue 10), each writing its section of bench/LOAD.md:
- varied: each visitor starts a training (or is refused a slot and told why), polls status, moves latent sliders
  through `generate` with its own random offsets, now and then changes a knob, and leaves;
- identical: every visitor sends the same request at the same instant (a barrier per round): the same `/start`
  preset (a classroom pressing Start together), then rounds of the same `/status` and the same `/generate`, while
  browser tabs opened together load the page (its own load events ask for identical default images). Every
  response must be complete and valid: each image is decoded.
Measured: errors, p50/p95 latency, the server's memory over time, refusals and their message, and the trainers,
sessions and threads left after everyone has gone.
Marked slow (python -m pytest -m slow tests/test_load.py); LOAD_SECONDS sets the duration of each (default 180).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from apphelpers import free_port

ROOT = Path(__file__).resolve().parents[1]
LOAD_MD = ROOT / "bench" / "LOAD.md"
VISITORS = 16
ENV = {"GAN_IDLE_SECONDS": "20", "GAN_LEASE_SECONDS": "10", "GRADIO_IS_E2E_TEST": "1"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * q / 100)))] if values else float("nan")


@contextmanager
def app_server():
    """`python app.py` on a free port; yields (process, url, a probe Client)."""
    from gradio_client import Client
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), **ENV)
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
        yield server, url, probe
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


class Recorder:
    """Latencies, errors and refusals from many visitor threads, and the server's memory every 5 s."""

    def __init__(self):
        self.lat: dict[str, list] = {}
        self.errors: list = []
        self.refusals: list = []
        self.memory: list = []
        self.lock = threading.Lock()

    def timed(self, name, fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        with self.lock:
            self.lat.setdefault(name, []).append(time.perf_counter() - t)
        return out

    def error(self, text):
        with self.lock:
            self.errors.append(text)

    def watch(self, pid, threads):
        t0 = time.monotonic()
        while any(t.is_alive() for t in threads):
            self.memory.append((round(time.monotonic() - t0), rss_mb(pid)))
            time.sleep(5)
        for t in threads:
            t.join()


def after_everyone_left(server, probe, rec: Recorder, seconds: float, case: str) -> dict:
    """Wait for the server to free every visitor, then the report of the case."""
    left_at = time.monotonic()
    stats = json.loads(probe.predict(api_name="/server_stats"))
    while (stats["trainers"] > 0 or stats["sessions"] > 1) and time.monotonic() - left_at < 60:
        time.sleep(2)
        stats = json.loads(probe.predict(api_name="/server_stats"))
    report = {"case": case, "visitors": VISITORS, "seconds": seconds, "errors": rec.errors,
              "requests": sum(len(v) for v in rec.lat.values())}
    for name, values in rec.lat.items():
        report[f"{name}_p50_ms"] = round(1000 * pct(values, 50), 1)
        report[f"{name}_p95_ms"] = round(1000 * pct(values, 95), 1)
    report.update({
        "refused": len(rec.refusals), "refusal_message": rec.refusals[0] if rec.refusals else "",
        "rss_mb_start": rec.memory[0][1] if rec.memory else None,
        "rss_mb_peak": max((m for _, m in rec.memory), default=None), "rss_mb_end": rss_mb(server.pid),
        "trainers_left": stats["trainers"], "sessions_left": stats["sessions"], "alive_trainer_threads": stats["alive"],
        "freed_within_s": round(time.monotonic() - left_at, 1),
        "server_threads_after": len(os.listdir(f"/proc/{server.pid}/task")), "python_threads_after": stats["threads"]})
    return report


def write_section(case: str, title: str, report: dict, memory: list) -> None:
    """Replace this case's section of bench/LOAD.md (between its markers), keeping the other case's."""
    body = "\n".join([f"<!-- {case} -->", f"## {title}", "", f"Run {time.strftime('%Y-%m-%d %H:%M')}, {VISITORS} "
                      f"visitors for {report['seconds']:g} s against `python app.py` (default settings but "
                      f"GAN_IDLE_SECONDS=20, GAN_LEASE_SECONDS=10).", "", "```json", json.dumps(report, indent=1),
                      "```", "", "Server RSS (MiB) every 5 s: " + ", ".join(f"{m:.0f}" for _, m in memory),
                      f"<!-- /{case} -->"])
    text = LOAD_MD.read_text() if LOAD_MD.exists() else ""
    pattern = re.compile(rf"<!-- {case} -->.*?<!-- /{case} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    LOAD_MD.write_text(text)


@pytest.mark.slow
def test_sixteen_visitors():
    from gradio_client import Client
    seconds = float(os.environ.get("LOAD_SECONDS", "180"))
    rec = Recorder()
    with app_server() as (server, url, probe):
        def visitor(i):
            rng = random.Random(i)
            try:
                c = Client(url, verbose=False)
                started = json.loads(c.predict(rng.choice(["ring8", "grid25", "dcgan-mnist", "moons"]),
                                               api_name="/start"))
                if not started["ok"]:
                    with rec.lock:
                        rec.refusals.append(started["message"])
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    json.loads(rec.timed("status", c.predict, api_name="/status"))
                    path = rec.timed("generate", c.predict, rng.randint(0, 10**6), "pretrained",
                                     json.dumps([rng.uniform(-2, 2) for _ in range(8)]), rng.randint(0, 9),
                                     api_name="/generate")
                    Image.open(path).load()
                    if rng.random() < 0.05 and started["ok"]:
                        c.predict(json.dumps({"lr_g": 10 ** rng.uniform(-4, -3)}), api_name="/set_knobs")
                    time.sleep(rng.uniform(0.5, 1.5))
                c.predict(api_name="/leave")
                c.close()
            except Exception as err:
                rec.error(f"visitor {i}: {type(err).__name__}: {str(err)[:200]}")

        threads = [threading.Thread(target=visitor, args=(i,)) for i in range(VISITORS)]
        for t in threads:
            t.start()
        rec.watch(server.pid, threads)
        report = after_everyone_left(server, probe, rec, seconds, "varied")
        probe.close()
    write_section("varied", "Varied requests: each visitor its own latents", report, rec.memory)
    assert not rec.errors, rec.errors[:5]
    assert report["trainers_left"] == 0 and report["alive_trainer_threads"] == 0, report
    assert report["refused"] == VISITORS - 4 and "slots" in report["refusal_message"]


def open_tabs_together(url: str, n: int, rec: Recorder) -> dict:
    """n tabs of one Chromium opened at the same moment; each must render the page and its default Explore image
    (the page's own load events, identical for every tab). Returns counts."""
    from playwright.sync_api import sync_playwright
    loaded = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        pages = [context.new_page() for _ in range(n)]
        errors = []
        for page in pages:
            page.on("pageerror", lambda e: errors.append(str(e)))
        t0 = time.perf_counter()
        for page in pages:       # goto returns at "commit": the tabs then load together
            page.goto(url, wait_until="commit", timeout=60_000)
        for i, page in enumerate(pages):
            try:
                page.get_by_role("tab", name="Explore").click(timeout=90_000)
                page.wait_for_function("() => { const i = document.querySelector('#gp-explore-image img');"
                                       " return i && i.complete && i.naturalWidth > 0; }", timeout=90_000)
                loaded += 1
            except Exception as err:
                rec.error(f"tab {i}: {type(err).__name__}: {str(err)[:200]}")
        with rec.lock:
            rec.lat.setdefault("tabs_all_loaded", []).append(time.perf_counter() - t0)
        for e in errors:
            rec.error(f"page error: {e[:200]}")
        browser.close()
    return {"tabs": n, "tabs_loaded": loaded}


@pytest.mark.slow
def test_sixteen_identical_visitors():
    """Issue 10: identical requests arriving together must all get whole answers."""
    from gradio_client import Client
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (bash .ci/run does it)")
    seconds = float(os.environ.get("LOAD_SECONDS", "180"))
    rec = Recorder()
    with app_server() as (server, url, probe):
        clients = [Client(url, verbose=False) for _ in range(VISITORS)]
        rounds = {"n": 0}
        barrier = threading.Barrier(VISITORS)
        end = time.monotonic() + seconds
        reference = {}

        def visitor(i, c):
            try:
                barrier.wait(60)
                started = json.loads(rec.timed("start", c.predict, "ring8", api_name="/start"))
                if not started["ok"]:
                    with rec.lock:
                        rec.refusals.append(started["message"])
                while True:
                    barrier.wait(120)                     # every visitor, the same request, the same instant
                    if time.monotonic() > end:
                        break
                    status = json.loads(rec.timed("status", c.predict, api_name="/status"))
                    assert "status" in status
                    barrier.wait(120)
                    path = rec.timed("generate", c.predict, 7, "pretrained", "[0.5, 0, 0, 0, 1.5]", 3,
                                     api_name="/generate")
                    with Image.open(path) as im:
                        im.load()
                        pixels = im.tobytes()
                    with rec.lock:
                        if reference.setdefault("generate", pixels) != pixels:
                            rec.errors.append(f"visitor {i}: an identical request got a different image")
                        if i == 0:
                            rounds["n"] += 1
                c.predict(api_name="/leave")
                c.close()
            except Exception as err:
                rec.error(f"visitor {i}: {type(err).__name__}: {str(err)[:200]}")
                barrier.abort()

        threads = [threading.Thread(target=visitor, args=(i, c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        tabs = {}
        browser = threading.Thread(target=lambda: tabs.update(open_tabs_together(url, 8, rec)))
        browser.start()
        rec.watch(server.pid, threads + [browser])
        report = after_everyone_left(server, probe, rec, seconds, "identical")
        report.update(rounds=rounds["n"], **tabs)
        probe.close()
    write_section("identical", "Identical requests at the same instant, and tabs opened together", report,
                  rec.memory)
    assert not rec.errors, rec.errors[:5]
    assert tabs.get("tabs_loaded") == 8
    assert report["trainers_left"] == 0 and report["alive_trainer_threads"] == 0, report
    assert report["refused"] == VISITORS - 4 and "slots" in report["refusal_message"]
