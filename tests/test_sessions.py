"""The session registry: per-visitor trainers, the cap, leases (hidden tab pauses), idle cleanup, unload."""

import pytest

from ganengine.config import Knobs, RunConfig
from playground.sessions import NoSlot, SessionRegistry

import waiting


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def registry():
    clock = FakeClock()
    reg = SessionRegistry(max_trainers=2, lease_seconds=10, idle_seconds=60, clock=clock)
    reg.clock = clock
    yield reg
    reg.shutdown()


def wait_for(pred, timeout=5.0):
    return waiting.wait_for(pred, timeout)


def kwargs():
    return dict(config=RunConfig(data="ring8", latent_dim=2, width=8, depth=1, device="cpu"), knobs=Knobs(batch_size=8),
                threads=1)


def test_each_visitor_gets_their_own_trainer_up_to_the_cap(registry):
    a = registry.trainer("a", **kwargs())
    b = registry.trainer("b", **kwargs())
    assert a is not b and registry.trainer("a") is a
    for sid in "ab":                  # a slot is for training: both train
        registry.claim(sid, lambda t: t.start())
    with pytest.raises(NoSlot, match="2 training slots"):
        registry.trainer("c", **kwargs())
    registry.drop("a")
    assert registry.trainer("c", **kwargs()) is not None  # a's slot was freed
    assert registry.stats()["trainers"] == 2


def test_a_failed_build_frees_its_slot(registry):
    with pytest.raises(Exception):
        registry.trainer("a", config=RunConfig(data="points", points_path="/missing.csv"), knobs=Knobs())
    assert registry.stats()["trainers"] == 0


def test_hidden_tab_pauses_and_returning_resumes(registry):
    t = registry.trainer("a", **kwargs())
    t.start()
    assert wait_for(lambda: t.snapshot().step > 0)
    registry.clock.t = 11  # no tick for longer than the lease
    assert registry.sweep() == {"paused": 1, "closed": 0, "orphans": 0}
    assert t.wait_idle(5) and wait_for(lambda: t.snapshot().status == "paused")
    assert registry.sweep() == {"paused": 0, "closed": 0, "orphans": 0}  # paused once, not again
    registry.session("a")  # the page ticks again
    assert wait_for(lambda: t.snapshot().status == "running")
    t.close()


def test_silent_visitor_is_freed(registry):
    t = registry.trainer("a", **kwargs())
    t.start()
    registry.clock.t = 61
    assert registry.sweep()["closed"] == 1
    assert not t.alive and registry.stats() == {"sessions": 0, "trainers": 0, "working": 0, "running": 0, "alive": 0,
                                              "max_trainers": 2}


def test_unload_drops_at_once(registry):
    t = registry.trainer("a", **kwargs())
    t.start()
    registry.drop("a")
    assert not t.alive and registry.peek("a") is None


def test_a_visitor_who_comes_back_is_told_why(registry):
    t = registry.trainer("a", **kwargs())
    registry.clock.t = 61
    registry.sweep()
    assert not t.alive
    assert "freed after 60 s" in registry.session("a").notice


def test_a_trainer_built_after_its_page_left_never_runs(registry):
    """Issue 17.1: the unload arrived while the trainer was being built; it used to be attached to the dropped
    session and then started, training uncounted until restart."""
    import threading
    built = threading.Event()
    release = threading.Event()
    real_factory = registry._factory

    def slow_factory(**kw):
        t = real_factory(**kw)
        built.set()
        release.wait(5)
        return t

    registry._factory = slow_factory
    result = {}

    def build():
        try:
            result["trainer"] = registry.trainer("a", **kwargs())
        except Exception as err:
            result["error"] = err

    th = threading.Thread(target=build)
    th.start()
    assert built.wait(10)
    registry.drop("a")              # the page's unload, mid-build
    release.set()
    th.join(10)
    from playground.sessions import SessionGone
    assert isinstance(result.get("error"), SessionGone)
    stats = registry.stats()
    assert stats["trainers"] == 0 and stats["alive"] == 0 and stats["working"] == 0


def test_the_reaper_closes_a_trainer_no_session_holds(registry):
    t = registry.trainer("a", **kwargs())
    t.start()
    assert wait_for(lambda: t.alive)
    registry._sessions.pop("a")      # however it happened, a running trainer that no session counts
    assert registry.sweep()["orphans"] == 1
    assert not t.alive


def test_paused_runs_hold_no_slot(registry):
    """Issue 17.6: two paused or finished runs used to block a third visitor for as long as their tabs were open."""
    start = lambda t: t.start()  # noqa: E731
    for sid in ("a", "b"):
        registry.trainer(sid, **kwargs())
    c = registry.trainer("c", **kwargs())     # a and b are built but idle: c still gets a trainer
    registry.claim("c", start)
    registry.claim("a", start)
    assert wait_for(lambda: c.working and registry.trainer("a").working)
    with pytest.raises(NoSlot):               # a and c train: b may not start
        registry.claim("b", start)
    assert not registry.trainer("b").running
    registry.trainer("a").pause()
    assert wait_for(lambda: not registry.trainer("a").working)
    registry.claim("b", start)                # a paused: its slot is b's
    assert registry.stats()["working"] == 2
    for sid in "abc":
        registry.trainer(sid).close()


def test_kept_trainers_beyond_the_cap_free_the_longest_idle(registry):
    kept = registry.max_kept          # 6 for a cap of 2
    for i in range(kept):
        registry.clock.t = 100 * i
        registry.trainer(f"v{i}", **kwargs())
        registry.session(f"v{i}")
    registry.clock.t = 100 * kept
    registry.trainer("new", **kwargs())   # v0 has been idle the longest: it makes room
    assert registry.peek("v0").trainer is None and "freed to make room" in registry.peek("v0").notice
    assert registry.stats()["trainers"] == kept


def test_branches_count_toward_the_runs_kept_in_memory(registry):
    """Review finding: building a run counted only runs against max_kept, so with branches alive the server kept
    max_kept + (branches) models. A branch is a model in memory too: the run to build makes room first."""
    from ganengine.trainer import Trainer
    kept = registry.max_kept          # 6 for a cap of 2
    for i in range(kept - 1):
        registry.clock.t = 100 * i
        registry.trainer(f"v{i}", **kwargs())
    registry.build_branch("v0", lambda: Trainer(**kwargs()), {"step": 0})
    assert registry.stats()["trainers"] == kept
    registry.clock.t = 100 * kept
    registry.trainer("new", **kwargs())   # v0 (run and branch) has been idle the longest: it makes room
    assert registry.peek("v0").trainer is None and registry.peek("v0").branch is None
    assert registry.stats()["trainers"] <= kept


def test_a_hidden_page_pauses_its_queued_steps_too(registry):
    """Issue 17.4: a finished run given /step calls kept training with no contact (the lease paused only runs)."""
    t = registry.trainer("a", **kwargs())
    registry.claim("a", lambda tr: tr.step(100_000, "both"))
    assert wait_for(lambda: t.snapshot().step > 0)
    registry.clock.t = 11
    assert registry.sweep()["paused"] == 1
    assert wait_for(lambda: not t.working)
    import time
    settled = []                      # the last step's numbers are published just after it ends: let them land
    assert wait_for(lambda: settled.append(t.snapshot().step) or (len(settled) > 3 and len(set(settled[-4:])) == 1))
    step = t.snapshot().step
    registry.session("a")             # the page is back: queued steps were dropped, not resumed
    time.sleep(0.3)
    assert t.snapshot().step == step and not t.running
    t.close()
