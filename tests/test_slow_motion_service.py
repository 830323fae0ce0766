"""The Train tab's slow motion (playground.slow_motion) without a browser: ten stages, the real step applied at the
last one with the numbers the stages told, a run that moved restarts the story, and concurrent requests (two
visitors, or one visitor's double click) all get complete answers."""
import threading

import numpy as np
import pytest

from playground.slow_motion import SlowMotion
from test_train_families import make_service


@pytest.fixture
def slow(tmp_path):
    svc, reg = make_service(tmp_path)
    yield SlowMotion(svc), svc
    reg.shutdown()


def ring8(svc, sid, **changes):
    setup = svc.preset_setup("ring8")
    setup.update(width=16, batch_size=32, **changes)
    assert svc.apply_setup(sid, setup, base=setup).ok


def test_ten_stages_then_the_real_step_with_the_same_numbers(slow):
    sm, svc = slow
    ring8(svc, "a")
    views = [sm.next_stage("a") for _ in range(10)]
    assert [f"stage {i} of 10" in v.header for i, v in enumerate(views, 1)] == [True] * 10
    assert "mean D(x) = " in views[1].header and views[1].main and views[1].plane
    trainer = svc.registry.session("a").live_trainer
    snap = trainer.snapshot()
    assert snap.step == 1 and "applied for real" in views[-1].reply
    pb = sm._playback["a"]
    loss_d = next(s for s in pb.stages if s.phase == "D" and s.kind == "loss")
    assert loss_d.data["loss"]["total"] == pytest.approx(float(snap.latest["loss/D"]), abs=0, rel=1e-6)
    assert f"{snap.latest['loss/D']:.3f}" in loss_d.text
    nxt = sm.next_stage("a")                          # the next iteration starts from step 1
    assert "stage 1 of 10" in nxt.header and "from step 1" in nxt.reply


def test_previous_stage_shows_the_recorded_stages_again_without_rerunning(slow):
    sm, svc = slow
    assert "No stage yet" in sm.previous_stage("a").reply          # nothing recorded: a sentence
    ring8(svc, "a")
    shown = [sm.next_stage("a") for _ in range(4)]                   # stages 1-4 of the D phase
    trainer = svc.registry.session("a").live_trainer
    step = trainer.snapshot().step
    back = sm.previous_stage("a")
    assert "stage 3 of 10" in back.header and back.header == shown[2].header and back.side == shown[2].side
    assert "nothing was re-run" in back.reply
    assert [sm.previous_stage("a").header for _ in range(2)] == [shown[1].header, shown[0].header]
    first = sm.previous_stage("a")
    assert first.header == shown[0].header and "first stage" in first.reply and not first.reply.ok
    assert "stage 2 of 10" in sm.next_stage("a").header              # forward again, through the same recording
    assert trainer.snapshot().step == step == 0                      # nothing was applied or re-run
    views = [sm.next_stage("a") for _ in range(8)]                   # on to the last stage: the real step, once
    assert "applied for real" in views[-1].reply and trainer.snapshot().step == 1
    assert "stage 9 of 10" in sm.previous_stage("a").header and "stage 10 of 10" in sm.next_stage("a").header
    assert trainer.snapshot().step == 1                              # replaying the last stage does not step again


def test_a_run_that_moved_starts_the_story_again(slow):
    sm, svc = slow
    ring8(svc, "a")
    sm.next_stage("a")
    sm.next_stage("a")
    svc.set_knob("a", "d_steps", 2)                   # two D updates now: 15 stages
    v = sm.next_stage("a")
    assert "The run changed" in v.reply and "stage 1 of 15" in v.header


@pytest.mark.parametrize("same_visitor", [False, True])
def test_concurrent_requests_all_get_complete_answers(slow, same_visitor):
    sm, svc = slow
    sids = ["a", "a"] if same_visitor else ["a", "b"]
    for sid in set(sids):
        ring8(svc, sid)
    sm.next_stage("a")                                # the run is built once, outside the race
    results = [None, None]

    def ask(i):
        results[i] = sm.next_stage(sids[i])
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None and "stage" in r.header and r.side for r in results)
    numbers = sorted(int(r.header.split("stage ")[1].split(" of")[0]) for r in results)
    assert numbers == ([2, 3] if same_visitor else [1, 2])


def test_an_image_run_shows_d_s_score_under_each_fake(slow):
    sm, svc = slow
    setup = svc.preset_setup("cgan-mnist")
    setup.update(width=8, batch_size=16)
    assert svc.apply_setup("a", setup, base=setup).ok
    sm.next_stage("a")
    v = sm.next_stage("a")
    assert "stage 2 of 10" in v.header and not v.plane and not v.main
    assert v.pictures.count("gp-sm-tile") >= 16 and "D = " in v.pictures
    assert "#gp-plot-dprob" in v.pictures              # the Train tab's histogram and D(x) curves are outlined
    assert np.isfinite(float(v.header.split("mean D(x) = ")[1][:4]))
