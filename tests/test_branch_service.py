"""Branch and compare without Gradio (issue 15): two runs for one visitor, counted against the server's slots."""
import json
import threading
import time

import pytest

from playground.branch_service import BranchService
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService


@pytest.fixture
def services(tmp_path):
    settings = Settings(max_trainers=2, data_root=str(tmp_path), allow_downloads=False)
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    train = TrainService(registry=reg, settings=settings)
    yield train, BranchService(train)
    reg.shutdown()


def ring(train):
    setup = train.preset_setup("ring8")
    setup.update(width=16, latent_dim=4, batch_size=32, sample_every=10, log_every=5)  # a frame every 10 steps
    return setup


def trained(train, sid, steps=40):
    """A paused run of ``steps`` steps with timeline frames (restore points) every 10 steps."""
    train.apply_setup(sid, ring(train))
    for _ in range(steps // 10):   # ten at a time: each chunk's last step is drawn before the next chunk (frames are
        assert train.step(sid, "both", 10).ok     # drawn off the training thread, only the latest waiting one)
        trainer = train.registry.session(sid).live_trainer
        assert trainer.wait_idle(120)
    assert trainer.snapshot().step == steps
    return trainer


def wait(pred, timeout=120):   # generous: the shared test machine ran at load 15-20
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_bad_input_gets_a_sentence(services):
    train, branch = services
    assert not branch.fork("v", 0, "lr_d", "0.001").ok                     # no run
    assert "Start a run first" in branch.fork("v", 0, "lr_d", "0.001")
    trained(train, "v", 20)
    for index, knob, value, words in ((None, "lr_d", "0.001", "pick a frame"), (0, "nope", "1", "not a live"),
                                      (0, "lr_d", "fast", "takes a number"), (0, "lr_d", "", "type a new value"),
                                      (0, "d_steps", "1.5", "whole number"), (0, "lr_d", "-1", "D learning rate"),
                                      (0, "loss", "sideways", "loss")):
        reply = branch.fork("v", index, knob, value)
        assert not reply.ok and words in reply, (knob, value, reply)
        assert "Traceback" not in reply
    for call in (branch.start, branch.pause, branch.keep, branch.discard):
        reply = call("v")
        assert not reply.ok and "No branch yet" in reply
    assert train.registry.session("v").branch is None


def test_fork_compare_keep(services):
    train, branch = services
    main = trained(train, "v", 40)
    steps = main.snapshot().timeline_steps
    # a frame near step 20 (frames are drawn off the training thread, only the latest waiting one: CI once had no
    # frame at exactly step 20); the fork goes to the restore point at or before it
    index = max(i for i, st in enumerate(steps) if 10 <= st <= 30)   # step 20 when every chunk's frame was drawn
    reply = branch.fork("v", index, "lr_d", "0.004")
    s = train.registry.session("v")
    assert s.branch is not None
    fork = s.branch_info["step"]
    assert 0 < fork <= steps[index] and fork % 10 == 0                       # restore points every 10 steps
    assert reply.ok and f"forked at step {fork}" in reply and "D learning rate" in reply, reply
    assert wait(lambda: s.branch.snapshot().step >= 60)                  # the branch trains in its own slot
    assert train.registry.slot_counts("v") == {"mine": 2, "mine_working": 1, "per_visitor": 2, "working": 1,
                                               "max_trainers": 2}
    assert "one of your 2 training slots" in branch.slots_text("v") and "1 of 2" in branch.slots_text("v")
    def full_compare():            # the panel as a fresh page sees it (compare leaves out what this page already has)
        s.sent.pop("branch", None)
        s.sent.pop("branch_visuals", None)
        return branch.compare("v")
    assert wait(lambda: full_compare()["samples"].count("<img") == 2)   # the branch's frame is drawn off-thread
    view = full_compare()
    losses = json.loads(view["losses"])
    names = [t["name"] for t in losses["data"]]
    assert "Loss D: main run" in names and "Loss D: branch" in names
    dashed = [t for t in losses["data"] if t["name"] == "Loss D: branch"][0]
    assert dashed["line"]["dash"] == "dash" and min(x for x in dashed["x"] if x is not None) >= fork
    assert losses["layout"]["shapes"][0]["x0"] == fork                        # the fork step is marked
    assert view["samples"].count("<img") == 2
    assert "Differences" in view["settings"] and "D learning rate" in view["settings"] and "0.004" in view["settings"]
    assert branch.compare("v").keys() <= {"slots", "samples", "losses", "settings", "quality", "quality_main",
                                          "quality_branch"}
    branch.pause("v")
    assert s.branch.wait_idle(10)
    kept_step = s.branch.snapshot().step
    reply = branch.keep("v")
    assert reply.ok and "now your run" in reply
    assert s.branch is None and s.live_trainer.snapshot().knobs.lr_d == 0.004
    assert s.live_trainer.snapshot().step == kept_step and not main.alive     # the old run was closed
    assert train.status("v")["knobs"]["lr_d"] == 0.004
    assert train.registry.stats()["trainers"] == 1


def test_slot_limit_counts_the_branch(services):
    """max_trainers=2: a visitor's run and branch both training fill the server; a second visitor waits, and a
    visitor has at most one branch."""
    train, branch = services
    trained(train, "a", 30)
    assert train.start("a").ok
    assert branch.fork("a", 1, "loss", "hinge").ok
    assert wait(lambda: train.registry.stats()["working"] == 2)
    other = train.start("b")
    assert not other.ok and "All 2 training slots are in use" in other
    again = branch.fork("a", 0, "lr_g", "0.001")
    assert not again.ok and "branch already" in again
    assert branch.pause("a").ok                         # a paused branch frees its slot
    assert wait(lambda: train.registry.stats()["working"] == 1)
    assert train.start("b").ok
    refused = branch.start("a")
    assert not refused.ok and "All 2 training slots" in refused
    train.pause("b")
    assert wait(lambda: train.registry.stats()["working"] == 1)
    assert branch.discard("a").ok and train.registry.session("a").branch is None
    assert train.registry.stats()["trainers"] == 2     # a's run and b's
    train.pause("a")


def test_a_full_server_refuses_the_fork(services):
    train, branch = services
    trained(train, "a", 20)
    trained(train, "b", 20)
    assert train.start("a").ok and train.start("b").ok
    reply = branch.fork("a", 0, "lr_d", "0.001")
    assert not reply.ok and reply.startswith("◷") and "2 of 2" in reply
    assert train.registry.session("a").branch is None
    train.pause("a")
    train.pause("b")


def test_identical_concurrent_forks_each_get_a_whole_answer(services):
    train, branch = services
    trained(train, "v", 20)
    replies = [None] * 4

    def fork(i):
        replies[i] = branch.fork("v", 1, "lr_d", "0.002")
    threads = [threading.Thread(target=fork, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.ok for r in replies) == 1                      # one branch, and three clear refusals
    assert all(r.ok or "branch already" in r for r in replies), replies
    assert train.registry.stats()["trainers"] == 2
    assert train.reset("v").ok                                  # the run the branch came from is replaced:
    assert train.registry.session("v").branch is None           # the branch goes at once (not at the panel's tick)
    view = branch.compare("v")                                  # and the page says why
    assert "Your branch was closed" in view["slots"]
    assert "Your branch was closed" in branch.compare("v")["slots"]       # the note stays until the next action
    assert train.registry.stats()["trainers"] == 1
