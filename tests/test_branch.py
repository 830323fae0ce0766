"""Branches (issue 15, "Branch and compare"): a fork trains exactly as its parent until a knob differs."""
import pytest
import torch

from ganengine.branch import build_branch, knob_differences, take_fork_point
from ganengine.config import ConfigError
from ganengine.trainer import Trainer


def _weights(trainer):
    with trainer.with_run() as run:
        return {f"{n}.{k}": v.clone() for n, net in run.nets.items() for k, v in net.state_dict().items()}


def _branch(parent, step, changes, config, knobs):
    fork = take_fork_point(parent, step)
    child = Trainer(config=config, knobs=knobs, threads=1)
    child.adopt_run(build_branch(fork, changes), fork.quality)
    return fork, child


def test_a_fork_with_no_change_replays_its_parent_bit_for_bit(tiny_points):
    config, knobs = tiny_points   # sample_every=10: a restore point every 10 steps
    parent = Trainer(config=config, knobs=knobs, threads=1)
    parent.step(60)
    assert parent.wait_idle(30)
    fork, child = _branch(parent, 35, {}, config, knobs)
    assert fork.step == 30 and fork.asked == 35      # the latest restore point at or before the frame
    snap = child.snapshot()
    assert snap.step == 30 and snap.metrics["step"].max() <= 30 and max(snap.timeline_steps) <= 30
    assert any(e.kind == "fork" for e in snap.events)
    child.step(30)
    assert child.wait_idle(30) and child.snapshot().step == 60
    a, b = _weights(parent), _weights(child)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)   # bit-identical, not approximately
    pm, cm = parent.snapshot().metrics, child.snapshot().metrics
    p = dict(zip(pm["step"].tolist(), pm["loss/D"].tolist()))
    c = dict(zip(cm["step"].tolist(), cm["loss/D"].tolist()))
    assert all(p[s] == c[s] for s in range(31, 61) if s in p and s in c) and len(set(p) & set(c)) > 10
    assert parent.snapshot().step == 60              # the parent was only read
    parent.close()
    child.close()


def test_a_changed_knob_takes_another_path_from_the_fork(tiny_points):
    config, knobs = tiny_points
    parent = Trainer(config=config, knobs=knobs, threads=1)
    parent.step(40)
    assert parent.wait_idle(30)
    fork, child = _branch(parent, 20, {"lr_d": 5e-3, "loss": "hinge"}, config, knobs)
    snap = child.snapshot()
    assert snap.knobs.lr_d == 5e-3 and snap.knobs.loss == "hinge" and snap.step == 20
    assert {e.kind for e in snap.events if e.step == 20} >= {"fork", "lr_d", "loss"}   # marked on the curves
    assert knob_differences(parent.snapshot().knobs, snap.knobs) == {"loss": ("ns", "hinge"), "lr_d": (1e-3, 5e-3)}
    child.step(20)
    assert child.wait_idle(30)
    a, b = _weights(parent), _weights(child)
    assert any(not torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError):
        _branch(parent, 20, {"lr_d": -1.0}, config, knobs)
    with pytest.raises(ConfigError):
        _branch(parent, 20, {"no_such_knob": 1}, config, knobs)
    with pytest.raises(ValueError):
        take_fork_point(parent, -1)
    parent.close()
    child.close()


def test_the_fork_takes_the_knobs_in_use_at_its_step(tiny_points):
    """A knob changed after the fork step belongs to the parent's later path, not to the branch."""
    config, knobs = tiny_points
    parent = Trainer(config=config, knobs=knobs, threads=1)
    parent.step(20)
    assert parent.wait_idle(30)
    parent.set_knobs(lr_g=3e-3)
    parent.step(20)
    assert parent.wait_idle(30)
    fork = take_fork_point(parent, 20)
    assert fork.knobs.lr_g == knobs.lr_g and parent.snapshot().knobs.lr_g == 3e-3
    parent.close()
