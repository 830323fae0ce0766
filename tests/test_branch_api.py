"""The /branch endpoint through gradio_client (issue 15): one client forks its run, compares both, keeps the branch,
forks again and discards; bad input gets a sentence."""
import json

import pytest

import waiting
from apphelpers import running_app


@pytest.fixture(scope="module")
def app():
    with running_app() as (playground, url):
        yield playground, url


def call(c, action, frame=-1, knob="", value=""):
    return json.loads(c.predict(action, frame, knob, value, api_name="/branch"))


def status(c):
    return json.loads(c.predict(api_name="/status"))


def test_fork_compare_keep_discard(app):
    from gradio_client import Client
    playground, url = app
    c = Client(url, verbose=False)
    try:
        assert call(c, "compare")["ok"] is False                           # nothing to compare yet: a sentence
        refused = call(c, "fork", -1, "lr_d", "0.004")
        assert refused["ok"] is False and "Start a run first" in refused["message"]
        assert json.loads(c.predict("ring8", api_name="/start"))["ok"]
        assert waiting.wait_for(lambda: status(c)["step"] >= 300, 120, every=0.2)
        c.predict(api_name="/pause")
        forked = call(c, "fork", -1, "lr_d", "0.004")
        assert forked["ok"] and "forked at step" in forked["message"], forked
        view = call(c, "compare")
        assert view["ok"] and view["differences"] == {"lr_d": {"main": view["main"]["knobs"]["lr_d"], "branch": 0.004}}
        fork_step = view["fork_step"]
        assert 0 < fork_step <= view["main"]["step"] and view["main"]["status"] == "paused"
        assert waiting.wait_for(lambda: call(c, "compare")["branch"]["step"] > fork_step + 20, 120, every=0.2)
        assert call(c, "pause")["ok"]
        second = call(c, "fork", -1, "lr_d", "0.001")
        assert not second["ok"] and "branch already" in second["message"]   # one branch per visitor
        kept = call(c, "keep")
        assert kept["ok"] and "now your run" in kept["message"]
        assert status(c)["knobs"]["lr_d"] == 0.004                           # the branch is the run now
        assert call(c, "compare")["ok"] is False                             # and there is no branch
        assert call(c, "fork", -1, "loss", "hinge")["ok"]
        gone = call(c, "discard")
        assert gone["ok"] and "discarded" in gone["message"]
        assert playground.registry.session(c.session_hash).branch is None
        assert call(c, "discard")["ok"] is False
    finally:
        c.predict(api_name="/leave")
        c.close()


def test_bad_input_gets_a_sentence(app):
    from gradio_client import Client
    _, url = app
    c = Client(url, verbose=False)
    try:
        bad = call(c, "explode")
        assert bad["ok"] is False and "action must be one of" in bad["message"]
        assert json.loads(c.predict("ring8", api_name="/start"))["ok"]
        assert waiting.wait_for(lambda: status(c)["step"] >= 50, 120, every=0.2)
        wrong = call(c, "fork", -1, "nonsense", "1")
        assert wrong["ok"] is False and "not a live setting" in wrong["message"]
        text = call(c, "fork", -1, "lr_d", "fast")
        assert text["ok"] is False and "takes a number" in text["message"]
    finally:
        c.predict(api_name="/leave")
        c.close()
