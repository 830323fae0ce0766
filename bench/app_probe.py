"""Sections 1b and 3, in a process of their own with the app's thread policy (as app.py: OMP_WAIT_POLICY=PASSIVE,
1 torch thread on <= 2 cores): the app runs in this process, a headless Chromium page is open on it, and
gradio_client visitors call it.

- throughput with the page open: the page's own session trains (configured through the service, so the same
  model and batch as section 1); steps/s over a window, against the bare loop on 1 thread in this process
  (measured just before, with no page and no training) and the headless engine ratio of section 1.
- latency of a latent-slider update: gradio_client round trips of `generate` on the pretrained DCGAN, idle and
  while the page's run trains.
- the refresh tick: server CPU of the tick handler (thread time) and the bytes it returns, full and incremental.
- memory per visitor: RSS growth per trainer session (ring8 and DCGAN presets), and after they leave.
Prints one JSON object.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_IS_E2E_TEST", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from bench.common import percentile, rss_mb  # noqa: E402
from bench.throughput import CASES, bare_rate  # noqa: E402
from ganengine.device import configure_threads  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def start_dcgan(service, sid: str) -> None:
    """The page's own DCGAN run, training while latency is measured."""
    service.apply_setup(sid, service.preset_setup("dcgan-mnist"))
    service.start(sid)
    time.sleep(2.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(max_trainers: int):
    from playground.app import Playground, build_demo, launch_kwargs
    from playground.settings import Settings
    playground = Playground(Settings(max_trainers=max_trainers, lease_seconds=60, idle_seconds=120,
                                     allow_downloads=False))
    playground.registry.start_reaper()
    demo = build_demo(playground)
    demo.queue(max_size=256, default_concurrency_limit=4)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            **launch_kwargs(playground))
    return playground, demo, url


def page_session(playground, timeout=30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sids = list(playground.registry._sessions)
        if sids:
            return sids[0]
        time.sleep(0.2)
    raise RuntimeError("the page never ticked")


def setup_of(config, knobs) -> dict:
    return {**config.to_dict(), **knobs.to_dict()}


def main(quick: bool) -> dict:
    threads = configure_threads()
    out = {"threads": threads}
    window, reps = (2.0, 1) if quick else (10.0, 3)
    cases = list(CASES.items())[2:] if quick else list(CASES.items())

    playground, demo, url = launch(max_trainers=8)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="load")
        page.locator("#gp-start").wait_for(timeout=60_000)
        sid = page_session(playground)
        service = playground.train

        # ---- throughput with the page open --------------------------------------------------------------------
        # interleaved pairs (bare loop with the page idle, then the page's own run), so drift hits both alike
        out["page_open"] = {}
        for name, (factory, config, knobs) in cases:
            bares, apps = [], []
            for _ in range(reps):
                bares.append(bare_rate(factory, window))
                service.apply_setup(sid, setup_of(config, knobs))
                service.start(sid)
                trainer = playground.registry.session(sid).live_trainer
                time.sleep(2.0)
                s0, t0 = trainer.snapshot().step, time.monotonic()
                time.sleep(window)
                apps.append((trainer.snapshot().step - s0) / (time.monotonic() - t0))
                service.pause(sid)
                trainer.wait_idle(10)
            ratios = sorted(a / b for a, b in zip(apps, bares))
            out["page_open"][name] = {"app_steps_per_sec": sorted(apps)[len(apps) // 2],
                                      "bare_1_thread": sorted(bares)[len(bares) // 2],
                                      "ratio": ratios[len(ratios) // 2], "ratios": ratios}

        # ---- the tick handler ----------------------------------------------------------------------------------
        out["tick"] = {}
        for label, preset in (("2-D (ring8)", "ring8"), ("images (DCGAN MNIST)", "dcgan-mnist")):
            service.apply_setup(sid, service.preset_setup(preset))
            service.start(sid)
            time.sleep(3.0)
            session = playground.registry.session(sid)
            full_cpu, full_bytes, inc_cpu, inc_bytes = [], [], [], []
            for i in range(3 if quick else 30):
                session.sent.clear()
                t = time.thread_time()
                tick = service.tick(sid)
                full_cpu.append((time.thread_time() - t) * 1000)
                full_bytes.append(sum(len(v) for v in vars(tick).values() if isinstance(v, str)))
                time.sleep(0.5)
                t = time.thread_time()
                tick = service.tick(sid)
                inc_cpu.append((time.thread_time() - t) * 1000)
                inc_bytes.append(sum(len(v) for v in vars(tick).values() if isinstance(v, str)))
            service.pause(sid)
            out["tick"][label] = {"full_ms_p50": percentile(full_cpu, 50), "full_bytes_p50": percentile(full_bytes, 50),
                                  "incremental_ms_p50": percentile(inc_cpu, 50),
                                  "incremental_bytes_p50": percentile(inc_bytes, 50)}

        # ---- slider latency in the browser: key press on a latent slider until the new image has loaded -----------
        out["browser_slider_ms"] = {}
        page.get_by_role("tab", name="Explore").click()
        image = page.locator("#gp-explore-image img")
        image.wait_for(timeout=30_000)
        slider = page.locator("#gp-dir-0 input[type=range]")
        for state in ("idle", "training"):
            if state == "training":
                start_dcgan(service, sid)
            times = []
            for i in range(8 if quick else 40):
                before = image.get_attribute("src")
                slider.focus()
                t = time.perf_counter()
                page.keyboard.press("ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
                page.wait_for_function("(prev) => { const i = document.querySelector('#gp-explore-image img');"
                                       " return i && i.src !== prev && i.complete; }", arg=before, timeout=30_000)
                times.append((time.perf_counter() - t) * 1000)
                time.sleep(0.15)
            out["browser_slider_ms"][state] = {"p50": percentile(times[2:], 50), "p95": percentile(times[2:], 95)}
        service.pause(sid)

        # ---- slider latency through the API ---------------------------------------------------------------------
        from gradio_client import Client
        client = Client(url, verbose=False)
        n = 8 if quick else 60
        out["slider_latency_ms"] = {}
        for state in ("idle", "training"):
            if state == "training":
                start_dcgan(service, sid)
            times = []
            for i in range(n):
                t = time.perf_counter()
                client.predict(7, "pretrained", json.dumps([0.1 * (i % 30) - 1.5, 0, 0, 0]), 3, api_name="/generate")
                times.append((time.perf_counter() - t) * 1000)
            out["slider_latency_ms"][state] = {"p50": percentile(times[3:], 50), "p95": percentile(times[3:], 95)}
        service.pause(sid)
        client.close()
        browser.close()

    # ---- memory per visitor ----------------------------------------------------------------------------------
    from gradio_client import Client

    from playground.sessions import return_memory
    return_memory()  # what earlier sections freed must not count against this one
    out["memory_mb"] = {"baseline": rss_mb()}
    for preset in (("ring8",) if quick else ("ring8", "dcgan-mnist")):
        return_memory()
        before = rss_mb()
        clients = [Client(url, verbose=False) for _ in range(1 if quick else 4)]
        for c in clients:
            c.predict(preset, api_name="/start")
        time.sleep(1.5 if quick else 3.0)
        for c in clients:
            c.predict(api_name="/pause")
        during = rss_mb()
        for c in clients:
            c.close()
        deadline = time.monotonic() + 20
        while playground.registry.stats()["trainers"] > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the reaper's return_memory runs after the last trainer closes
        out["memory_mb"][preset] = {"per_visitor": (during - before) / len(clients), "visitors": len(clients),
                                    "after_leaving": rss_mb() - before,
                                    "trainers_left": playground.registry.stats()["trainers"]}
    demo.close()
    playground.registry.shutdown()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    print("RESULT " + json.dumps(main(args.quick)))
