"""The server-side guards (issue 17): request body cap, per-visitor queue caps, the tab-close beacon route, and
hostile raw-HTTP calls of the page's private events. Each check is bounded in time (the whole file takes ~1 min)."""
import asyncio
import json
import os
import resource
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from apphelpers import running_app
from waiting import wait_for

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def app():
    with running_app(max_trainers=1) as (playground, url):
        config = httpx.get(url + "config", timeout=10).json()
        yield SimpleNamespace(playground=playground, url=url, config=config)


def fn_index(config, api_name):
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- request body cap --------------------------------------------------------------------------------------------
def test_big_json_bodies_are_refused_with_413(app):
    join = app.url + "gradio_api/queue/join"
    body = b'{"data": ["' + b"x" * (5 << 20) + b'"], "fn_index": 0, "session_hash": "bigbody0001"}'
    r = httpx.post(join, content=body, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413 and "too large" in r.json()["detail"]

    # no Content-Length (chunked), 200 MiB: counted as it arrives, refused after the first MiB, memory untouched
    chunk, sent = b"x" * (1 << 20), []

    def stream():
        yield b'{"data": ["'
        for _ in range(200):
            sent.append(1)
            yield chunk
        yield b'"], "fn_index": 0, "session_hash": "bigbody0002"}'

    before = peak_rss_mib()
    r = httpx.post(join, content=stream(), headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413
    assert len(sent) < 50, f"the server read {len(sent)} MiB before refusing"
    assert peak_rss_mib() - before < 64
    assert httpx.get(app.url + "config", timeout=10).status_code == 200


def test_uploads_keep_gradios_own_limit(app):
    r = httpx.post(app.url + "gradio_api/upload", files={"files": ("two_mib.bin", os.urandom(2 << 20))}, timeout=30)
    assert r.status_code == 200, r.text


# ---- per-visitor caps on the queue -------------------------------------------------------------------------------
def test_a_flooding_session_cannot_make_another_visitors_call_fail(app):
    """Before the caps one session filling the queue got everyone else '503 Queue is full' (52 of 57 calls)."""
    from gradio_client import Client
    join = app.url + "gradio_api/queue/join"
    body = {"data": [1, "pretrained", "[]", 0], "fn_index": fn_index(app.config, "generate"),
            "session_hash": "flooder000001", "event_data": None, "trigger_id": None}
    statuses, stop = [], threading.Event()

    def flood():
        with httpx.Client(timeout=10) as http:
            while not stop.is_set():
                statuses.append(http.post(join, json=body).status_code)

    flooders = [threading.Thread(target=flood) for _ in range(4)]
    for t in flooders:
        t.start()
    try:
        assert wait_for(lambda: len(statuses) > 100, 15, 0.05), "the flood did not get going"
        visitor = Client(app.url, verbose=False)
        for seed in range(4):
            assert Path(visitor.predict(seed, "pretrained", "[]", 0, api_name="/generate")).stat().st_size > 0
    finally:
        stop.set()
        for t in flooders:
            t.join(15)
    assert 429 in statuses and 503 not in statuses, {s: statuses.count(s) for s in set(statuses)}


def run(coro):
    return asyncio.run(coro)


class FakeQueue:
    def __init__(self, waiting, running):
        self.event_queue_per_concurrency_id = {"g": SimpleNamespace(queue=waiting)}
        self.active_jobs = [running, None]


def event(sid, ip):
    return SimpleNamespace(session_hash=sid, request=SimpleNamespace(scope={"client": (ip, 1), "headers": []}))


async def call(middleware, queue, *, sid, ip="10.0.0.1", path="/gradio_api/queue/join", headers=()):
    body = json.dumps({"data": [], "fn_index": 0, "session_hash": sid}).encode()
    scope = {"type": "http", "method": "POST", "path": path, "client": (ip, 5), "headers": list(headers),
             "app": SimpleNamespace(get_blocks=lambda: SimpleNamespace(_queue=queue))}
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await middleware(scope, receive, send)
    return sent[0]["status"] if sent else None


def test_fairness_counts_waiting_and_running_events_per_session_and_per_address():
    from playground.queue_fairness import QueueFairness

    async def downstream(scope, receive, send):
        assert (await receive())["body"]   # the body read for the check is replayed to Gradio
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    mw = QueueFairness(downstream, per_session=3, per_client=5, trust_forwarded=False)
    busy = FakeQueue([event("aaaaaaaa1", "10.0.0.1")] * 2, [event("aaaaaaaa1", "10.0.0.1")])
    assert run(call(mw, busy, sid="aaaaaaaa1")) == 429          # 2 waiting + 1 running = the cap
    assert run(call(mw, busy, sid="bbbbbbbb2")) == 200          # another session of the same address
    assert run(call(mw, busy, sid="aaaaaaaa1", path="/gradio_api/run/predict")) == 429   # direct calls count too
    assert run(call(mw, busy, sid="aaaaaaaa1", path="/gradio_api/upload")) == 200        # not an event
    rotating = FakeQueue([event(f"rot{i:06d}", "10.0.0.9") for i in range(5)], [])
    assert run(call(mw, rotating, sid="fresh0001", ip="10.0.0.9")) == 429   # new session hashes do not help
    assert run(call(mw, rotating, sid="fresh0001", ip="10.0.0.8")) == 200
    assert run(call(mw, FakeQueue([], []), sid="aaaaaaaa1")) == 200
    assert not mw.pending, "finished requests must not keep counting"
    # on a Space every request comes from the proxy: the first X-Forwarded-For entry is the visitor
    spaced = QueueFairness(downstream, per_session=3, per_client=5, trust_forwarded=True)
    proxy = FakeQueue([SimpleNamespace(session_hash=f"s{i:08d}", request=SimpleNamespace(
        scope={"client": ("10.16.3.80", 1), "headers": [(b"x-forwarded-for", b"203.0.113.7, 10.16.0.1")]}))
        for i in range(5)], [])
    assert run(call(spaced, proxy, sid="new000001", ip="10.16.3.80",
                    headers=[(b"x-forwarded-for", b"203.0.113.7")])) == 429
    assert run(call(spaced, proxy, sid="new000001", ip="10.16.3.80",
                    headers=[(b"x-forwarded-for", b"198.51.100.2")])) == 200


def test_queued_events_cannot_skip_the_queue(app):
    """Direct /gradio_api/run/<name> calls would skip the queue's concurrency limits (api_open=False, as on a Space)."""
    r = httpx.post(app.url + "gradio_api/run/generate", json={"data": [1, "pretrained", "[]", 0]}, timeout=30)
    assert r.status_code == 404 and "queue" in r.text


# ---- tab close -------------------------------------------------------------------------------------------------
def test_no_heartbeat_connection_and_the_leave_route_drops_only_that_session(app):
    assert app.config["connect_heartbeat"] is False, "a heartbeat holds a connection per tab (seventh tab hangs)"
    assert "gp/leave" in (app.config.get("head") or "")
    registry = app.playground.registry
    registry.session("leaver0000001")
    registry.session("stayer000001")
    leave = app.url + "gp/leave"
    for bad in (b"", b"short", b"../../etc/passwd", b"x" * 100, b"a b c d e f g h"):
        assert httpx.post(leave, content=bad, timeout=10).status_code == 400, bad
    assert httpx.post(leave, content=b"nobody0000001", timeout=10).status_code == 204
    assert httpx.post(leave, content=b"leaver0000001", timeout=10).status_code == 204
    assert registry.peek("leaver0000001") is None and registry.peek("stayer000001") is not None
    assert httpx.get(leave, timeout=10).status_code == 405
    registry.drop("stayer000001")


def test_a_silent_gradio_client_is_still_freed_by_the_reaper():
    from gradio_client import Client
    with running_app(max_trainers=1, idle_seconds=2.0) as (playground, url):
        Client(url, verbose=False).predict(api_name="/status")
        assert playground.registry.stats()["sessions"] == 1
        assert wait_for(lambda: playground.registry.stats()["sessions"] == 0, 15, 0.2)


# ---- the page's own events over raw HTTP -------------------------------------------------------------------------
HOSTILE = {
    "wrong types": lambda n: [{"x": [1, {"y": None}]}] * n,
    "NaN and infinity": lambda n: [float("nan"), float("inf"), float("-inf"), "NaN", -1e308][:n] * (n // 5 + 1),
    "huge strings": lambda n: ["9" * 40_000] * n,
    "nulls": lambda n: [None] * n,
    "too few values": lambda n: [],
    "a foreign file": lambda n: [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}] * n,
}


EXTREME_NUMBERS = {"numbers NaN": float("nan"), "numbers infinite": float("inf"), "numbers 1e308": 1e308,
                   "numbers -7.5": -7.5}
# Was broken (issue 10 sweep): on_preset echoed a seed of 1e308 into the Train tab's seed Number, which had no maximum,
# and Gradio's SSE stream cannot serialise an integer over 64 bits: the visitor's stream died with no answer. The seed
# now has a maximum and on_preset refuses it; the test below keeps it fixed.
ONCE_BROKEN = {("on_preset", "numbers 1e308")}


def typed_values(config, dep, number):
    """Values Gradio's preprocessing accepts (a valid choice for each dropdown and radio, no file) with `number` in
    every number and slider: these reach the handlers themselves."""
    comps = {c["id"]: c for c in config["components"]}
    values = []
    for i in dep["inputs"]:
        c = comps[i]
        if c["type"] in ("dropdown", "radio"):
            choices = c["props"].get("choices") or [[None, None]]
            values.append(choices[-1][1])
        elif c["type"] in ("number", "slider"):
            values.append(number)
        elif c["type"] == "textbox":
            values.append("[1e308, NaN, -Infinity]")
        else:
            values.append(None)
    return values


def call_events(url, session, calls, timeout=60.0):
    """Join each (fn_index, data) in `session` and read the SSE stream until each has completed.
    Returns {event_id: (fn_index, completion message or None)}."""
    ids = {}
    with httpx.Client(timeout=timeout) as http:
        for fn, data in calls:
            payload = json.dumps({"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                                  "trigger_id": None})   # json.dumps writes NaN/Infinity, as a hostile client may
            r = http.post(url + "gradio_api/queue/join", content=payload, headers={"content-type": "application/json"})
            ids[r.json()["event_id"] if r.status_code == 200 else f"http-{len(ids)}"] = \
                (fn, None if r.status_code == 200 else {"msg": "http", "status": r.status_code, "output": r.text})
        deadline = time.monotonic() + timeout
        with http.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("event_id") in ids and message.get("msg") == "process_completed":
                        ids[message["event_id"]] = (ids[message["event_id"]][0], message)
                    if message.get("msg") in ("close_stream", "unexpected_error"):
                        break
                if all(m is not None for _, m in ids.values()) or time.monotonic() > deadline:
                    break
    return ids


def hostile_calls(config):
    """(fn_index, handler, input label, data) for each private event (one of each handler and input signature;
    Start first, so the knob, step and timeline handlers meet a live trainer) and each hostile input."""
    comps = {c["id"]: c for c in config["components"]}
    deps, seen = [], set()
    for d in config["dependencies"]:
        signature = (d["api_name"].rstrip("_0123456789"), tuple(comps[i]["type"] for i in d["inputs"]),
                     tuple(map(tuple, d["targets"])) if not d["inputs"] else ())
        if d.get("api_visibility") == "private" and signature not in seen:
            seen.add(signature)
            deps.append(d)
    deps.sort(key=lambda d: not any(comps.get(t[0], {}).get("props", {}).get("elem_id") == "gp-start"
                                    for t in d["targets"]))
    calls = []
    for d in deps:
        n = len(d["inputs"])
        if not n:
            calls.append((d["id"], d["api_name"], "unexpected values", ["x", None]))
            continue
        calls += [(d["id"], d["api_name"], label, make(n)[:n]) for label, make in HOSTILE.items()]
        calls += [(d["id"], d["api_name"], label, typed_values(config, d, number))
                  for label, number in EXTREME_NUMBERS.items()]
    return calls


def test_private_events_over_raw_http_answer_hostile_input_and_the_server_stays_healthy(app):
    """Every page event is callable by fn_index (api_visibility="private" only hides it from gradio_client). Call
    each with hostile values: each must answer (a message or an error event, never a traceback) within a bound, and
    the server must keep answering. The outcome of each call is written to test-artifacts/hostile-events.json."""
    from gradio_client import Client
    calls = hostile_calls(app.config)
    started, report, problems = time.monotonic(), [], []
    for i in range(0, len(calls), 6):   # a page's worth at a time: under the per-session cap
        batch = calls[i:i + 6]
        results = call_events(app.url, "hostile00001", [(fn, data) for fn, _, _, data in batch])
        for (fn, name, label, _), (_, message) in zip(batch, results.values()):
            text = json.dumps(message)[:400] if message else "no answer"
            outcome = ("no answer" if message is None else "ok" if message.get("success") else "error")
            report.append({"fn_index": fn, "handler": name, "input": label, "outcome": outcome, "message": text})
            if message is None or "Traceback" in text or 'File "' in text:
                problems.append(report[-1])
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hostile-events.json").write_text(json.dumps(report, indent=1))
    assert not problems, problems[:5]
    assert time.monotonic() - started < 120
    stats = json.loads(Client(app.url, verbose=False).predict(api_name="/server_stats"))
    assert "sessions" in stats
    httpx.post(app.url + "gp/leave", content=b"hostile00001", timeout=30)


def test_a_huge_seed_with_a_preset_gets_an_answer(app):
    calls = [c for c in hostile_calls(app.config) if (c[1].rstrip("_0123456789"), c[2]) in ONCE_BROKEN]
    assert calls
    for fn, name, label, data in calls:
        (_, message), = call_events(app.url, "hostile00002", [(fn, data)], timeout=20).values()
        assert message is not None, f"{name} with {label}: no answer"
