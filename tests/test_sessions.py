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
    assert registry.sweep() == {"paused": 1, "closed": 0}
    assert t.wait_idle(5) and wait_for(lambda: t.snapshot().status == "paused")
    assert registry.sweep() == {"paused": 0, "closed": 0}  # paused once, not again
    registry.session("a")  # the page ticks again
    assert wait_for(lambda: t.snapshot().status == "running")
    t.close()


def test_silent_visitor_is_freed(registry):
    t = registry.trainer("a", **kwargs())
    t.start()
    registry.clock.t = 61
    assert registry.sweep()["closed"] == 1
    assert not t.alive and registry.stats() == {"sessions": 0, "trainers": 0, "running": 0, "max_trainers": 2}


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
