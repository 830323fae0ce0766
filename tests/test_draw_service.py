"""The Train tab's drawn data, quality figure, latent-grid toggle and D's verdict per sample, without a browser."""
import json

import numpy as np
import pytest

from playground.draw_service import drawing_setup, preview_html, train_on_drawing
from playground.figures import quality_figure
from playground.figures_2d import add_manifold, mesh_lines
from playground.scored_grid import scored_views_html, tinted_grid, verdict_colour
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService
from playground.view_toggles import applies, set_view


@pytest.fixture
def service(tmp_path):
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    svc = TrainService(registry=reg, settings=Settings(max_trainers=2, data_root=str(tmp_path),
                                                       allow_downloads=False, save_dir=str(tmp_path / "saves")))
    yield svc
    reg.shutdown()


def bar_drawing():
    img = np.zeros((300, 300, 4), np.uint8)
    img[140:152, 40:260, 3] = 255          # a horizontal bar across the middle
    return {"background": None, "layers": [], "composite": img}


def test_a_drawing_trains_through_the_points_path_and_the_tick_shows_the_grid(service):
    assert "points" in preview_html(bar_drawing()) and "empty" in preview_html({"composite": None})
    setup, answer = train_on_drawing(service, "v1", {"composite": np.zeros((300, 300, 4), np.uint8)})
    assert setup is None and not answer.ok and "empty" in answer
    setup, answer = train_on_drawing(service, "v1", bar_drawing(), seed=2)
    assert answer.ok and setup["data"] == "points" and setup["model"] == "mlp", answer
    trainer = service.registry.session("v1").live_trainer
    trainer.pause()
    pts = trainer.run.source.points.numpy()
    assert pts.shape == (1000, 2) and abs(float(np.median(pts[:, 1]))) < 0.1   # the bar sits at y ~ 0
    assert trainer.snapshot().config.seed == 2 == drawing_setup(2)["seed"]
    service.step("v1", "both", 2)
    assert trainer.wait_idle(60)
    set_view(service.registry, "v1", "manifold", True)
    tick = service.tick("v1")
    names = [t.get("name") for t in json.loads(tick.panel)["data"]]
    assert any(n and n.startswith("G's latent grid") for n in names), names


def test_the_points_quality_figure_has_its_floor_and_three_curves():
    history = [{"step": s, "energy": e, "energy_floor": 0.002, "precision": p, "coverage": c, "kind": "points"}
               for s, e, p, c in ((100, 0.5, 0.2, 0.1), (200, 0.05, 0.8, 0.7))]
    fig = quality_figure(history, "points")
    assert len(fig["data"]) == 3 and fig["layout"]["yaxis2"]["type"] == "log"
    assert "floor" in fig["layout"]["annotations"][0]["text"]


def test_the_manifold_mesh_joins_rows_and_columns():
    grid = np.stack(np.meshgrid(np.arange(3.0), np.arange(3.0), indexing="xy"), -1)   # (3, 3, 2)
    xs, ys = mesh_lines(grid)
    assert len(xs) == 2 * 3 * 4 and xs[3] is None        # 6 polylines of 3 points, each ended by a gap
    fig = add_manifold({"data": [{"type": "heatmap"}], "layout": {}},
                       {"manifold": {"points": grid, "latent_dim": 8, "span": 2.0}})
    assert "other 6 dims at 0" in fig["data"][1]["name"]


def test_scores_tint_each_tile_and_carry_hover_text():
    grid = np.zeros((2 + 2 * 30, 2 + 2 * 30, 3), np.uint8)   # 2 x 2 tiles of 28 px, pad 2
    scores = {"prob": [0.0, 0.5, 1.0, 0.9], "logit": [-9.0, 0.0, 9.0, 2.2], "ncol": 2, "tile": (28, 28), "pad": 2}
    img = tinted_grid(grid, scores)
    assert img.shape == (2 * 34, 2 * 34, 3)
    assert tuple(img[0, 0]) == (163, 62, 189) and tuple(img[0, 34]) == (235, 235, 235)
    assert tuple(img[34, 0]) == (0, 136, 55) and tuple(img[5, 5]) == (0, 0, 0)
    assert tuple(verdict_colour(0.75)) == tuple(np.round((np.array([235, 235, 235]) + np.array([0, 136, 55])) / 2))
    visuals = {"grid": grid, "grid_scores": scores, "views": ("grid",), "step": 5, "captions": {}}
    page = scored_views_html(visuals, True)
    assert page.count("<div title=") == 4 and "D says 0.90 real (logit +2.20)" in page
    assert "D says" not in scored_views_html(visuals, False)


def test_each_view_toggle_shows_only_where_it_applies():
    assert applies("ring8") == {"manifold": True, "scores": False}         # the latent grid: 2-D data
    assert applies("points") == {"manifold": True, "scores": False}
    assert applies("mnist") == {"manifold": False, "scores": True}          # D's verdict: the gan family's images
    assert applies("edges2digits") == {"manifold": False, "scores": False}  # pix2pix draws no scored grid
    assert applies("no-such-data") == {"manifold": False, "scores": False}
