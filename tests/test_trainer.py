"""Trainer control: pause, steps of each kind, live settings, stop, NaN rollback, bounded history, determinism."""
import threading
import time

import numpy as np
import pytest
import torch

from ganengine.config import ConfigError
from ganengine.trainer import Trainer
from waiting import wait_for


@pytest.fixture
def trainer(tiny_points):
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, threads=1)
    yield t
    t.close()


def test_starts_ready_and_trains(trainer):
    assert trainer.snapshot().status == "ready" and trainer.snapshot().step == 0
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().step >= 20)
    snap = trainer.snapshot()
    assert snap.status == "running"
    assert len(snap.metrics["loss/D"]) > 0 and np.isfinite(snap.latest["loss/D"])
    assert wait_for(lambda: "grid" in trainer.snapshot().visuals)   # drawn on the render thread
    snap = trainer.snapshot()
    assert snap.visuals["grid"].dtype == np.uint8


def test_pause_holds_the_step(trainer):
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().step >= 10)
    trainer.pause()
    assert wait_for(lambda: trainer.snapshot().status == "paused")
    with trainer.with_run() as run:
        step = run.step
    time.sleep(0.2)
    with trainer.with_run() as run:
        assert run.step == step


def test_step_d_only_and_g_only(trainer):
    def params(m):
        return [p.detach().clone() for p in m.parameters()]

    with trainer.with_run() as run:
        g0, d0 = params(run.G), params(run.D)
    trainer.step_d()
    assert trainer.wait_idle(60)
    with trainer.with_run() as run:
        assert all(torch.equal(a, b) for a, b in zip(g0, run.G.parameters())), "a D step must not move G"
        assert any(not torch.equal(a, b) for a, b in zip(d0, run.D.parameters()))
        assert (run.d_updates, run.g_updates) == (1, 0)
        g1, d1 = params(run.G), params(run.D)
    trainer.step_g()
    assert trainer.wait_idle(60)
    with trainer.with_run() as run:
        assert all(torch.equal(a, b) for a, b in zip(d1, run.D.parameters())), "a G step must not move D"
        assert any(not torch.equal(a, b) for a, b in zip(g1, run.G.parameters()))
        assert (run.d_updates, run.g_updates) == (1, 1)
    snap = trainer.snapshot()
    assert snap.step == 2 and snap.visuals["step"] == 2  # step mode refreshes the visuals every step


def test_step_n_both_players(trainer):
    trainer.set_knobs(d_steps=3)
    trainer.step(4)
    assert trainer.wait_idle(60)
    snap = trainer.snapshot()
    assert (snap.step, snap.d_updates, snap.g_updates) == (4, 12, 4)


def test_live_lr_change_reaches_the_optimizer_without_reset(trainer):
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().step >= 10)
    trainer.set_knobs(lr_g=3e-3, lr_d=5e-4, loss="hinge", batch_size=16, r1_weight=2.0, label_smoothing=0.1)
    assert wait_for(lambda: trainer.snapshot().knobs.lr_g == 3e-3)
    with trainer.with_run() as run:
        assert run.opt_g.param_groups[0]["lr"] == pytest.approx(3e-3)
        assert run.opt_d.param_groups[0]["lr"] == pytest.approx(5e-4)
        assert run.knobs.loss == "hinge" and run.step >= 10  # no reset
    kinds = {e.kind for e in trainer.snapshot().events}
    assert {"lr_g", "lr_d", "loss", "batch_size", "r1_weight", "label_smoothing"} <= kinds
    assert wait_for(lambda: trainer.snapshot().latest.get("lr_g") == pytest.approx(3e-3))


@pytest.mark.parametrize("bad", [dict(lr_g=float("nan")), dict(lr_d=0), dict(lr_g=-1e-3), dict(batch_size=0),
                                 dict(d_steps=0), dict(loss="nope"), dict(batch_size=10**9), dict(bogus=1),
                                 dict(lr_g=float("inf"))])
def test_bad_knobs_are_refused_and_change_nothing(trainer, bad):
    before = trainer.snapshot().knobs
    with pytest.raises(ConfigError):
        trainer.set_knobs(**bad)
    assert trainer.snapshot().knobs == before


def test_stop_ends_the_thread_within_2s(tiny_digits):
    config, knobs = tiny_digits
    t = Trainer(config=config, knobs=knobs, threads=1)
    t.start()
    assert wait_for(lambda: t.snapshot().step >= 2)
    began = time.monotonic()
    assert t.stop(timeout=2.0)
    assert time.monotonic() - began < 2.0
    assert not t.alive and t.snapshot().status == "stopped"
    assert not any(th.name == "gan-trainer" and th.is_alive() for th in threading.enumerate() if th is not t._thread)


def test_nan_pauses_and_rolls_back(trainer):
    trainer.step(25)
    assert trainer.wait_idle(60)
    with trainer.with_run() as run:
        good_step = run._good_step
        assert good_step >= 10
        next(run.G.parameters()).data.fill_(float("nan"))  # a divergence
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().status == "paused" and "diverged" in trainer.snapshot().message)
    snap = trainer.snapshot()
    assert snap.step == good_step
    assert any(e.kind == "rollback" for e in snap.events)
    with trainer.with_run() as run:
        assert all(torch.isfinite(p).all() for p in run.G.parameters())
    assert np.all(snap.metrics["step"] <= good_step)
    trainer.step(3)  # and it can go on
    assert trainer.wait_idle(60) and trainer.snapshot().step == good_step + 3


def test_limits_finish_the_run(tiny_points):
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, max_steps=30, threads=1)
    t.start()
    assert wait_for(lambda: t.snapshot().status == "finished")
    assert t.snapshot().step == 30
    t.close()


def test_same_seed_same_run(tiny_points):
    config, knobs = tiny_points
    losses = []
    for _ in range(2):
        t = Trainer(config=config, knobs=knobs, threads=1)
        t.step(30)
        assert t.wait_idle(60)
        losses.append(t.snapshot().metrics["loss/D"])
        t.close()
    np.testing.assert_array_equal(losses[0], losses[1])


def test_reset_rebuilds_paused_at_step_zero(trainer, tiny_points):
    trainer.step(5)
    trainer.wait_idle()
    trainer.reset(config=tiny_points[0].with_changes(data="grid25"))
    snap = trainer.snapshot()
    assert snap.step == 0 and snap.status == "ready" and snap.spec.name == "grid25"
    with pytest.raises(ConfigError):
        trainer.reset(config=tiny_points[0].with_changes(data="points", points_path="/nonexistent.csv"))
    assert trainer.snapshot().spec.name == "grid25"  # a failed reset leaves the run as it was


def test_generator_copy_is_independent(trainer):
    G, config, spec = trainer.generator_copy()
    trainer.step(5)
    trainer.wait_idle()
    with trainer.with_run() as run:
        assert any(not torch.equal(a, b) for a, b in zip(G.parameters(), run.sampler().parameters()))
    assert not G.training


def test_history_is_bounded():
    from ganengine.history import FrameHistory, MetricHistory
    h = MetricHistory(columns=("step", "v"), capacity=64)
    for i in range(100_000):
        h.append(np.array([i, i % 7]))
    cols = h.columns_dict()
    assert len(h) <= 64
    assert cols["step"][-1] == 99_999 and np.all(np.diff(cols["step"]) > 0)
    assert cols["v"].mean() == pytest.approx(3.0, abs=0.2)  # merging keeps the average
    f = FrameHistory(capacity=8)
    for i in range(1000):
        f.append(i, np.zeros((2, 2, 3), np.uint8))
    steps, _ = f.copy()
    assert len(steps) <= 8 and steps[0] == 0 and steps[-1] == 999


def test_rewind_replays_exactly_and_allows_a_different_path(tiny_points):
    config, knobs = tiny_points  # sample_every=10: a frame and a restore point every 10 steps
    t = Trainer(config=config, knobs=knobs, threads=1)
    t.step(60)
    assert t.wait_idle(20)
    first = t.snapshot().metrics
    original = dict(zip(first["step"].tolist(), first["loss/D"].tolist()))
    assert t.rewind(35) == 30  # the latest restore point at or before step 35
    snap = t.snapshot()
    assert snap.step == 30 and snap.metrics["step"].max() <= 30 and max(snap.timeline_steps) == 30
    assert any(e.kind == "rewind" for e in snap.events)
    t.step(30)
    assert t.wait_idle(20)
    replay = t.snapshot().metrics
    again = dict(zip(replay["step"].tolist(), replay["loss/D"].tolist()))
    for s in range(31, 61):
        assert again[s] == pytest.approx(original[s]), s  # the same RNG and weights: the same path
    t.rewind(30)
    t.set_knobs(lr_d=5e-3)  # ... or a different one
    t.step(5)
    assert t.wait_idle(20) and t.snapshot().step == 35
    with pytest.raises(ValueError):
        t.rewind(-1)
    t.close()


def test_rewind_says_where_it_goes_and_drops_the_abandoned_quality(tiny_points):
    """Issue 15: rewinding to a frame went to another step, and the quality plot kept the abandoned path."""
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, threads=1)
    t.step(40)
    assert t.wait_idle(20)
    t.measure_quality()
    t.step(40)
    assert t.wait_idle(20)
    t.measure_quality()
    deadline = time.monotonic() + 20          # the result is published by the training thread a moment later
    while len(t.snapshot().quality) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    snap = t.snapshot()
    assert [q["step"] for q in snap.quality] == [40, 80]
    assert 0 < len(snap.restore_steps) and snap.restore_steps[-1] == 80   # one with each frame taken
    for step in snap.timeline_steps:        # what the page says before a rewind is where it goes
        target = snap.rewind_target(step)
        assert target == max(s for s in snap.restore_steps if s <= step)
    frame = snap.timeline_steps[len(snap.timeline_steps) // 2]
    assert t.rewind(frame) == snap.rewind_target(frame)
    after = t.snapshot()
    assert [q["step"] for q in after.quality] == [40] or frame < 40 and after.quality == ()
    assert max(after.timeline_steps) == after.step and max(after.restore_steps) == after.step
    t.close()


def test_restore_points_are_bounded():
    from ganengine.history import RestorePoints
    rp = RestorePoints(max_points=4, max_bytes=1000)
    for step in range(0, 1000, 10):
        rp.add(step, {"x": step}, 100)
    assert len(rp) <= 4 and rp.steps[0] == 0 and rp.steps[-1] == 990
    rp2 = RestorePoints(max_points=50, max_bytes=1000)
    for step in range(100):
        rp2.add(step, {}, 300)
    assert len(rp2) <= 3  # the byte budget binds first
    assert rp2.at_or_before(-1) is None


# ---- limits and queued work (issue 17) ---------------------------------------------------------------------------
def test_queued_steps_stop_at_the_step_limit(tiny_points):
    """A finished public run given step("both", 100000) five times reached step 8,040 and kept training."""
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, max_steps=30, threads=1)
    t.start()
    assert wait_for(lambda: t.snapshot().status == "finished")
    for _ in range(5):
        assert t.step(100_000, "both") is False  # at the limit: nothing is queued
    assert t.wait_idle(5) and t.snapshot().step == 30
    assert "limit" in t.snapshot().message and t.snapshot().status == "finished"
    t.close()


@pytest.mark.parametrize("kind", ["both", "d", "g"])
def test_manual_steps_count_towards_the_limit(tiny_points, kind):
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, max_steps=12, threads=1)
    assert t.step(100_000, kind) is True
    assert t.wait_idle(20)
    snap = t.snapshot()
    assert snap.step == 12 and snap.status == "finished" and "limit of 12 steps" in snap.message
    t.start()  # start and step both refuse, with the message
    assert not t.running and t.step(1) is False and t.wait_idle(5) and t.snapshot().step == 12
    t.set_limits(max_steps=15)  # a raised limit lets it go on
    assert t.step(100) is True and t.wait_idle(20) and t.snapshot().step == 15
    t.close()


def test_the_seconds_limit_stops_queued_steps(tiny_points):
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, max_seconds=0.3, threads=1)
    t.step(100_000)
    assert wait_for(lambda: t.snapshot().status == "finished", timeout=20)
    assert t.wait_idle(5) and "0.3 s of training" in t.snapshot().message
    step = t.snapshot().step
    time.sleep(0.2)
    assert t.snapshot().step == step and t.step(5) is False
    t.close()


def test_pause_clears_queued_steps_and_working_reports_them(tiny_points):
    config, knobs = tiny_points
    t = Trainer(config=config, knobs=knobs, threads=1)
    assert not t.working
    t.step(100_000)
    assert t.working and not t.running  # queued work, not continuous training
    assert wait_for(lambda: t.snapshot().step >= 3)
    t.pause()
    assert t.wait_idle(5) and not t.working
    with t.with_run() as run:
        step = run.step
    time.sleep(0.2)
    with t.with_run() as run:
        assert run.step == step < 100_000
    t.pause()  # a Step button pauses first, then queues: its step still happens
    t.step(1)
    assert t.wait_idle(5) and t.snapshot().step == step + 1
    for kind in ("both", "d", "g"):  # quick clicks: keep_steps keeps the earlier clicks' steps
        t.pause(keep_steps=True)
        t.step(1, kind)
    assert t.wait_idle(5) and t.snapshot().step == step + 4
    t.start()
    assert t.working
    t.pause()
    assert t.wait_idle(5) and not t.working
    t.close()


def test_an_unreadable_folder_image_stops_training_with_a_sentence(tmp_path):
    """A ConfigError raised while training (here: a corrupt image met mid-run) is shown as its own sentence."""
    from PIL import Image

    from ganengine.config import Knobs, RunConfig
    for i in range(4):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(tmp_path / f"img{i}.png")
    t = Trainer(config=RunConfig(data="folder", folder_path=str(tmp_path), model="dcgan", image_size=8, width=4,
                                 latent_dim=4, device="cpu", sample_every=100), knobs=Knobs(batch_size=4), threads=1)
    (tmp_path / "img2.png").write_bytes(b"corrupted")
    t.step(3)
    assert t.wait_idle(20)
    message = t.snapshot().message
    assert message.startswith("Training stopped: img2.png is not a readable image") and "Error:" not in message
    t.close()
