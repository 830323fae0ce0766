"""Explore's path panel for vid2vid (issue 14): the named and drawn paths, and the service rendering a live vid2vid
G's clip along them (playground/path_explore.py), with one sentence for bad input or the wrong kind of generator."""
import numpy as np
import pytest
import torch

from ganengine.config import ConfigError
from ganengine.data.moving import ROOM
from ganengine.data.paths import NAMES, named_path, path_from_drawing
from playground.explore_service import ExploreService
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService


@pytest.mark.parametrize("name", NAMES)
def test_named_paths_stay_on_the_canvas_and_move_like_the_training_clips(name):
    p = named_path(name, 16)
    steps = (p[1:] - p[:-1]).abs()
    assert p.shape == (16, 2) and p.dtype == torch.int64 and p.min() >= 0 and p.max() <= ROOM
    assert steps.max() <= 3 and (steps.sum(1) > 0).float().mean() > 0.8          # moving, a few px a frame
    with pytest.raises(ConfigError, match="unknown path"):
        named_path("spiral", 16)


def test_a_drawn_stroke_is_followed_from_one_end_to_the_other():
    ink = np.zeros((256, 256), dtype=bool)
    for i in range(40, 216):                                  # a diagonal stroke, top-left to bottom-right
        ink[i - 3:i + 3, i - 3:i + 3] = True
    p = path_from_drawing(ink, 12)
    ends = torch.stack(sorted([p[0], p[-1]], key=lambda e: int(e.sum())))
    assert (ends - torch.tensor([[0, 0], [ROOM, ROOM]])).abs().max() <= 1     # both ends (within the digit's reach)
    d = (p[1:] - p[:-1]).sum(1)
    assert (d >= 0).all() or (d <= 0).all()                  # one way along the stroke, no jumping back
    with pytest.raises(ConfigError, match="draw a path"):
        path_from_drawing(np.zeros((256, 256), dtype=bool), 12)


@pytest.fixture
def services(tmp_path):
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    settings = Settings(max_trainers=2, data_root=str(tmp_path), allow_downloads=False,
                        save_dir=str(tmp_path / "saves"))
    yield TrainService(registry=reg, settings=settings), ExploreService(registry=reg, settings=settings)
    reg.shutdown()


def test_explore_renders_a_live_vid2vid_clip_along_a_path_and_refuses_latent_views(services):
    train, explore = services
    with pytest.raises(ValueError, match="pick a vid2vid generator"):
        explore.path_clip("v1", 3, 0, "circle", 8)               # the default source draws from a latent z
    s = train.preset_setup("moving-digits")
    s.update(width=4, batch_size=2, sample_every=2)
    assert train.apply_setup("v1", s).ok
    train.step("v1", "both", 1)
    assert train.registry.session("v1").live_trainer.wait_idle(120)
    src, msg = explore.select("v1", "live")
    assert src is not None and src.paths, msg
    for name in ("bounce", "circle", "zig-zag"):
        frames, caption = explore.path_clip("v1", 3, 4, name, 10)
        assert frames.shape[0] == 10 and frames.ndim == 4 and frames.dtype == np.uint8
        assert "Warp error" in caption and "frame by frame" in caption
    drawing = np.zeros((256, 256, 4), dtype=np.uint8)
    drawing[100:110, 30:220, 3] = 255                         # a black horizontal stroke on transparent paper
    frames, caption = explore.path_clip("v1", 7, 0, "drawn", 8, {"composite": drawing})
    assert frames.shape[0] == 8 and "drawn path" in caption
    with pytest.raises(ValueError, match="draw a path first"):
        explore.path_clip("v1", 7, 0, "drawn", 8, None)
    with pytest.raises(ValueError, match="2 to 32 frames"):
        explore.path_clip("v1", 7, 0, "circle", 99)
    with pytest.raises(ValueError, match="digit must be 0 to 9"):
        explore.path_clip("v1", 12, 0, "circle", 8)
    with pytest.raises(ValueError, match="turns a path into a clip"):
        explore.render("v1", 7, [0] * 8)
