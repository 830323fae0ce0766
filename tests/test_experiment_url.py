"""Experiments in the URL (playground/experiment_url.py) and the watchable pace (Trainer.set_pace), without a browser:
a link written for one visitor's experiment opens the same experiment for another; bad links say what they ignored;
a paced run computes exactly what a full-speed run computes."""
import time

import pytest
import torch

from ganengine.config import ConfigError
from ganengine.presets import get_preset
from ganengine.trainer import Trainer
from playground.experiment_url import link_query, open_link, query_for, read_query
from playground.settings import Settings
from playground.app import Playground


@pytest.fixture
def playground():
    pg = Playground(Settings(max_trainers=2, allow_downloads=False, lease_seconds=30.0, idle_seconds=60.0))
    yield pg
    pg.registry.shutdown()


def settings_of(service, sid):
    config, knobs = service.current(sid)
    return {**config.to_dict(), **knobs.to_dict()}


def test_a_link_round_trips_an_experiment(playground):
    service = playground.train
    setup = service.preset_setup("grid25")
    assert service.apply_setup("a", {**setup, "seed": 7, "width": 96}, base=setup).ok
    service.remember_preset("a", "grid25")
    assert service.set_knob("a", "loss", "hinge").ok
    assert service.set_lr("a", "lr_d", "0.0007")[0].ok
    assert service.set_pace("a", 5).ok
    query = link_query(service, "a")
    assert query.startswith("preset=grid25&") and "lr_d=0.0007" in query and "pace=5" in query
    assert "lr_g" not in query                                     # only what differs from the preset is written

    params = dict(pair.split("=") for pair in query.split("&"))
    setup_b, opened, reply = open_link(service, "b", params)
    assert reply.ok and "Opened from a link" in reply
    assert settings_of(service, "b") == settings_of(service, "a")
    assert playground.registry.session("b").pace == 5.0
    assert playground.registry.session("b").live_trainer is None   # paused: ready to Start
    assert link_query(service, "b") == query


def test_a_family_knob_travels_too(playground):
    service = playground.train
    base = service.preset_setup("edges2digits")
    assert service.apply_setup("a", base, base=base).ok
    service.remember_preset("a", "edges2digits")
    name = next(iter(service.family_knobs("a")))["name"]
    value = service.family_knobs("a")[0]["high"]
    assert service.set_knob("a", name, value).ok
    query = link_query(service, "a")
    assert f"{name}=" in query
    open_link(service, "b", dict(pair.split("=") for pair in query.split("&")))
    assert service.current("b")[1].get(name) == value


def test_bad_links_say_what_they_ignored_and_open_the_rest(playground):
    service = playground.train
    setup, opened, reply = open_link(service, "a", {"preset": "ring8", "lr_g": "fast", "seed": "2.5", "zzz": "1"})
    assert not reply.ok and "lr_g='fast' was ignored (not a number)" in reply
    assert "seed='2.5' was ignored (not a whole number)" in reply
    assert service.current("a")[0].seed == 0 and service.current("a")[0].data == "ring8"

    setup, opened, reply = open_link(service, "b", {"preset": "ring8", "lr_g": "5"})   # the engine refuses lr 5
    assert not reply.ok and "G learning rate" in reply
    assert service.current("b")[1].lr_g == service.preset_setup("ring8")["lr_g"]    # the preset alone

    assert read_query({"preset": "no-such"}).notes == ["there is no preset 'no-such'"]
    assert "uploaded data cannot travel in a link" in read_query({"data": "points"}).notes[0]
    assert open_link(service, "c", {}) == (None, None, None)                 # a plain visit changes nothing
    assert playground.registry.session("c").setup is None
    assert read_query({"classroom": "1"}).classroom


def test_a_link_asks_for_one_of_the_speeds_the_page_offers(playground):
    """The Speed menu offers full speed, 20, 5 and 1 steps/s: a link's pace snaps to the nearest (pace=1000 made
    every step a shown step: a restore point and a render each) and says so; nonsense is ignored, said too."""
    assert read_query({"preset": "ring8", "pace": "20"}).pace == 20.0 and not read_query({"pace": "20"}).notes
    far = read_query({"preset": "ring8", "pace": "1000"})
    assert far.pace == 20.0 and "pace=1000 became 20" in far.notes[0]
    assert read_query({"preset": "ring8", "pace": "4"}).pace == 5.0
    for bad in ("-3", "nan", "inf", "fast"):
        opened = read_query({"preset": "ring8", "pace": bad})
        assert opened.pace == 0.0 and f"pace={bad!r} was ignored" in opened.notes[0], bad
    _, _, reply = open_link(playground.train, "a", {"preset": "ring8", "pace": "5000"})
    assert not reply.ok and "became 20" in reply and playground.registry.session("a").pace == 20.0


def test_uploaded_data_links_to_the_tuned_preset():
    config, knobs = get_preset("ring8").build()
    import dataclasses
    points = dataclasses.replace(config, data="points", points_path="/tmp/x.csv")
    assert "points" not in query_for(points, knobs, "ring8")


def test_a_paced_run_computes_what_a_full_speed_run_computes():
    config, knobs = get_preset("ring8").build()
    fast, slow = Trainer(config=config, knobs=knobs), Trainer(config=config, knobs=knobs)
    try:
        with pytest.raises(ConfigError):
            slow.set_pace(-1)
        slow.set_pace(50)
        for t in (fast, slow):
            t.start()
        t0 = time.monotonic()
        while slow.snapshot().step < 20 and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        slow.pause()
        fast.pause()
        slow.wait_idle()
        fast.wait_idle()
        elapsed = time.monotonic() - t0
        assert slow.run.step >= 20 and elapsed >= 0.3            # 20 steps at <= 50 steps/s take >= 0.4 s
        n = slow.run.step
        fast.reset()
        fast.step(n)
        fast.wait_idle()
        assert fast.run.step == n
        for a, b in zip(fast.run.G.parameters(), slow.run.G.parameters()):
            assert torch.equal(a, b)
    finally:
        fast.close()
        slow.close()


def test_a_paced_foreground_run_trains_to_its_limit():
    """Review finding: run_foreground returned as soon as a paced step was not yet due (it took the wait for idle)."""
    config, knobs = get_preset("ring8").build(width=16, batch_size=32)
    t = Trainer(config=config, knobs=knobs, max_steps=8)
    try:
        t.set_pace(100)
        started = time.monotonic()
        t.run_foreground()
        assert t.run.step == 8 and time.monotonic() - started >= 0.06   # 8 steps at <= 100 steps/s
    finally:
        t.close()


def test_a_paced_run_keeps_frames_and_restore_points_every_sample_every_steps():
    """Seen in the issue-15 Chromium pass: a paced run drew every step and kept a timeline frame and a restore point
    with each, so the early ones were thinned away and a rewind to the frame at step 199 went back to step 1. Every
    step is still shown; frames and restore points stay at step 1 and every sample_every steps, so a rewind goes
    exactly to the frame picked."""
    config, knobs = get_preset("ring8").build(width=16, batch_size=32, sample_every=10)
    t = Trainer(config=config, knobs=knobs, max_steps=60)
    try:
        t.set_pace(1000)
        t.run_foreground()
        snap = t.snapshot()
        assert snap.step == 60 and snap.visuals["step"] == 60
        assert list(snap.timeline_steps) == [1, 10, 20, 30, 40, 50, 60], snap.timeline_steps
        assert list(snap.restore_steps) == [1, 10, 20, 30, 40, 50, 60], snap.restore_steps
        assert t.rewind(snap.timeline_steps[2]) == 20
    finally:
        t.close()
