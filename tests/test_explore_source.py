"""Explore with no live run (issue 15): choosing "Your live run" before anything trains draws no picture, rather than
the last generator's (seen in the Chromium pass: the pretrained digit stayed under "No live run yet")."""
import pytest

from playground.explore_service import ExploreService
from playground.sessions import SessionRegistry
from playground.settings import Settings


@pytest.fixture
def explore():
    reg = SessionRegistry(max_trainers=1, lease_seconds=30, idle_seconds=60)
    yield ExploreService(registry=reg, settings=Settings(allow_downloads=False))
    reg.shutdown()


def test_no_live_run_leaves_no_generator_current(explore):
    pretrained = [k for _, k in explore.source_choices() if k.startswith("pretrained:")][0]
    assert explore.select("v", pretrained)[0] is not None
    image, caption = explore.render("v", 7, [0.0] * 8)              # the bundled generator draws
    assert image is not None and "seed 7" in caption
    src, message = explore.select("v", "live")
    assert src is None and "No live run yet" in message
    with pytest.raises(ValueError, match="No live run yet"):        # not the pretrained picture again
        explore.render("v", 7, [0.0] * 8)
    assert explore.select("v", pretrained)[0] is not None           # another choice draws again
    assert explore.render("v", 7, [0.0] * 8)[0] is not None
