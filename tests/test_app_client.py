"""The launched app through gradio_client: each Client is a visitor with its own trainer."""
import json

import pytest
from PIL import Image

import waiting
from apphelpers import running_app


@pytest.fixture(scope="module")
def app():
    with running_app() as (playground, url):
        yield playground, url


def client(url):
    from gradio_client import Client
    return Client(url, verbose=False)


def status(c):
    return json.loads(c.predict(api_name="/status"))


def wait_for(pred, timeout=30.0):
    return waiting.wait_for(pred, timeout, every=0.2)


def test_start_status_knobs_pause(app):
    playground, url = app
    c = client(url)
    try:
        started = json.loads(c.predict("ring8", api_name="/start"))
        assert started["ok"], started
        assert wait_for(lambda: status(c)["step"] >= 200)
        first = status(c)
        assert first["status"] == "running" and first["data"] == "ring8"
        assert wait_for(lambda: status(c)["step"] > first["step"])  # the step advances
        assert {"loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after"} <= set(first["latest"])

        reply = json.loads(c.predict('{"lr_g": 0.0005, "d_steps": 2}', api_name="/set_knobs"))
        assert reply["ok"] and reply["knobs"]["lr_g"] == 0.0005
        assert wait_for(lambda: status(c)["knobs"]["d_steps"] == 2)
        assert wait_for(lambda: any("lr_g" in e["text"] for e in status(c)["events"]))
        trainer = playground.registry.session(c.session_hash).live_trainer
        with trainer.with_run() as run:  # the optimizer itself changed, with no reset
            assert run.opt_g.param_groups[0]["lr"] == pytest.approx(0.0005 * run.lr_scale())
            assert run.step > first["step"]

        bad = json.loads(c.predict('{"lr_g": -1}', api_name="/set_knobs"))
        assert not bad["ok"] and "learning rate" in bad["error"]
        assert json.loads(c.predict("not json", api_name="/set_knobs"))["ok"] is False

        json.loads(c.predict(api_name="/pause"))
        assert wait_for(lambda: status(c)["status"] == "paused")
        before = status(c)
        c.predict("d", 1, api_name="/step")  # one D-only step: D moves, G does not
        assert wait_for(lambda: status(c)["d_updates"] == before["d_updates"] + 1)
        assert status(c)["g_updates"] == before["g_updates"] and status(c)["step"] == before["step"] + 1
    finally:
        c.close()


def test_pause_and_step_answer_with_the_state_after_them(app):
    """Issue 15: /step answered with the status from before the step and /pause could answer "running"."""
    playground, url = app
    c = client(url)
    try:
        assert json.loads(c.predict("ring8", api_name="/start"))["ok"]
        for _ in range(3):
            assert wait_for(lambda: status(c)["step"] >= 1)
            answer = json.loads(c.predict(api_name="/pause"))
            assert answer["status"] == "paused", answer["status"]
            step = answer["step"]
            for kind in ("both", "d", "g"):
                answer = json.loads(c.predict(kind, 1, api_name="/step"))
                assert answer["ok"] and answer["step"] == step + 1 and answer["status"] == "paused", answer
                step += 1
            assert json.loads(c.predict(api_name="/start"))["ok"]
    finally:
        c.predict(api_name="/leave")
        c.close()


def test_generate_returns_an_image(app):
    _, url = app
    c = client(url)
    try:
        path = c.predict(7, "pretrained", "[0.5, 0, 0, 0, 1.5]", 3, api_name="/generate")
        img = Image.open(path)
        assert img.size[0] >= 200 and img.size[1] >= 200
        again = Image.open(c.predict(7, "pretrained", "[0.5, 0, 0, 0, 1.5]", 3, api_name="/generate"))
        other = Image.open(c.predict(8, "pretrained", "[]", 3, api_name="/generate"))
        assert img.tobytes() == again.tobytes()  # a seed names an image
        assert img.tobytes() != other.tobytes()
        with pytest.raises(Exception):
            c.predict(7, "pretrained", "[1, \"x\"]", 3, api_name="/generate")
    finally:
        c.close()


def test_two_clients_train_independently_and_closing_frees(app):
    playground, url = app
    a, b = client(url), client(url)
    try:
        assert json.loads(a.predict("ring8", api_name="/start"))["ok"]
        assert json.loads(b.predict("moons", api_name="/start"))["ok"]
        assert wait_for(lambda: status(a)["step"] > 50 and status(b)["step"] > 50)
        assert status(a)["data"] == "ring8" and status(b)["data"] == "moons"
        a.predict(api_name="/pause")
        assert wait_for(lambda: status(a)["status"] == "paused")
        step_a, step_b = status(a)["step"], status(b)["step"]
        assert wait_for(lambda: status(b)["step"] > step_b + 50)
        assert status(a)["step"] == step_a  # pausing one visitor does not touch the other
        for c in (a, b):
            assert playground.registry.peek(c.session_hash).live_trainer is not None
    finally:
        a.predict(api_name="/leave")     # a client ends its visit at once (else the lease pauses it, the reaper frees it)
        a.close()
    assert playground.registry.peek(a.session_hash) is None                       # a's trainer is freed
    assert playground.registry.peek(b.session_hash).live_trainer.alive
    b.predict(api_name="/leave")
    b.close()
    assert playground.registry.peek(b.session_hash) is None


def test_no_slot_is_said_politely(app):
    playground, url = app
    clients = [client(url) for _ in range(3)]
    try:
        replies = [json.loads(c.predict("ring8", api_name="/start")) for c in clients]
        assert [r["ok"] for r in replies] == [True, True, False]
        assert "slots" in replies[2]["message"]
    finally:
        for c in clients:
            c.predict(api_name="/leave")
            c.close()
    assert all(playground.registry.peek(c.session_hash) is None for c in clients)
    assert playground.registry.stats()["working"] == 0


def test_api_bad_input_gets_clear_answers(app):
    playground, url = app
    c = client(url)
    try:
        assert status(c)["status"] == "none"                      # a visitor with no trainer yet
        assert json.loads(c.predict(api_name="/pause"))["status"] == "none"
        for bad in ('{"lr_g": NaN}', '{"batch_size": 1e12}', '{"latent_dim": 3}', '{"loss": "nope"}', "[1, 2]"):
            reply = json.loads(c.predict(bad, api_name="/set_knobs"))
            assert reply["ok"] is False and reply["error"], bad
        step_reply = json.loads(c.predict("x", 1, api_name="/step"))
        assert "both, d or g" in step_reply["message"] and step_reply["ok"] is False   # refused, not turned into both
        step_reply = json.loads(c.predict("d", 10**9, api_name="/step"))
        assert "whole number" in step_reply["message"]
        with pytest.raises(Exception, match="seed"):
            c.predict(-5, "pretrained", "[]", 3, api_name="/generate")
        with pytest.raises(Exception, match="source"):
            c.predict(1, "/etc/passwd", "[]", 3, api_name="/generate")
        clamped = Image.open(c.predict(7, "pretrained", "[1e9, -1e9, 1e300]", 99, api_name="/generate"))
        assert clamped.size[0] >= 200                                # out-of-range sliders are clamped, not fatal
        with pytest.raises(Exception):
            c.predict(api_name="/on_tick")                          # the page's own events are not an API
    finally:
        c.close()


def test_raw_http_extra_and_missing_arguments(app):
    import httpx
    _, url = app
    for payload in ({"data": [1, 2, 3]}, {"data": []}, {"nodata": True}, {"data": "x"}):
        r = httpx.post(url + "gradio_api/call/status", json=payload, timeout=20)
        if r.status_code == 200:
            event_id = r.json()["event_id"]
            stream = httpx.get(url + f"gradio_api/call/status/{event_id}", timeout=20).text
            assert "event:" in stream  # an answer (complete or error), never a hang
        else:
            assert 400 <= r.status_code < 500
    assert httpx.get(url, timeout=20).status_code == 200  # still serving


def test_no_file_outside_the_app_folders_is_served(app):
    import httpx
    from pathlib import Path

    from playground.live_plot import PLOTLY_JS
    _, url = app
    repo = Path(__file__).resolve().parents[1]
    allowed = httpx.get(url + f"gradio_api/file={PLOTLY_JS}", timeout=20)
    assert allowed.status_code == 200 and b"Plotly" in allowed.content[:4000]   # the route works for allowed files
    for target in ("/etc/passwd", str(repo / "app.py"), str(repo / "assets" / "digit_classifier.pt"),
                   f"{PLOTLY_JS.parent}/../../../app.py", f"{PLOTLY_JS.parent}/%2e%2e/%2e%2e/app.py"):
        r = httpx.get(url + f"gradio_api/file={target}", timeout=20)
        assert r.status_code in (403, 404), (target, r.status_code)
        assert b"root:" not in r.content and b"import" not in r.content
