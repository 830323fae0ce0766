"""Drawn 2-D data (drawing -> points -> data -> checkpoint round trip), the 2-D quality distance, G's manifold
view and D's score on each sample of an image grid."""
import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.checkpoint_points import checkpoint_points
from ganengine.config import ConfigError, RunConfig
from ganengine.data import build_source
from ganengine.data.drawn import EXTENT, drawing_to_points, write_points_file
from ganengine.manifold import latent_grid
from ganengine.metrics.points2d import energy_distance, points_metrics
from ganengine.run import GANRun

CPU = torch.device("cpu")


def ring_drawing(side=200, radius=60, width=4):
    """An RGBA canvas (transparent paper) with a black ring of the given radius in px, centred."""
    img = np.zeros((side, side, 4), np.uint8)
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot(xx + 0.5 - side / 2, yy + 0.5 - side / 2)
    img[np.abs(r - radius) <= width / 2, 3] = 255
    return img


def test_a_drawing_becomes_points_on_its_strokes_at_the_shown_scale():
    pts = drawing_to_points(ring_drawing(), n=500, seed=3)
    assert pts.shape == (500, 2) and pts.dtype == np.float32
    r = np.hypot(pts[:, 0], pts[:, 1])
    expected = 60 / 100 * EXTENT                     # 60 px of a 200 px canvas spanning 2 * EXTENT
    assert abs(float(np.median(r)) - expected) < 0.03 and r.max() < expected + 0.06
    assert (pts[:, 0] > 0).mean() == pytest.approx(0.5, abs=0.08)   # all round the ring, not one arc
    np.testing.assert_array_equal(pts, drawing_to_points(ring_drawing(), n=500, seed=3))   # seeded


def test_an_empty_or_odd_drawing_is_refused_in_a_sentence():
    with pytest.raises(ConfigError, match="empty"):
        drawing_to_points(np.zeros((100, 100, 4), np.uint8))
    with pytest.raises(ConfigError, match="8-bit"):
        drawing_to_points(np.zeros((100, 100), np.float32))


def test_drawn_points_train_and_a_checkpoint_carries_and_restores_them_exactly(tiny_points, tmp_path):
    config, knobs = tiny_points
    pts = drawing_to_points(ring_drawing(), n=300, seed=1)
    path = write_points_file(pts, tmp_path)
    cfg = config.with_changes(data="points", points_path=str(path))
    np.testing.assert_array_equal(build_source(cfg, CPU).points.numpy(), pts)   # the CSV reads back bit-equal
    run = GANRun(config=cfg, knobs=knobs)
    for _ in range(4):
        run.train_iteration()
    ckpt = read_checkpoint(checkpoint_bytes(run))
    path.unlink()                                       # the file is gone: the checkpoint alone must do
    carried = checkpoint_points(ckpt)
    np.testing.assert_array_equal(carried, pts)
    from ganengine.metrics.evaluate import evaluate_loaded
    assert evaluate_loaded(ckpt, n=200)["kind"] == "points"   # `eval` measures it against the carried points
    again = write_points_file(carried, tmp_path, stem="restored")
    b = GANRun(config=ckpt["_config"].with_changes(points_path=str(again)), knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    for r in (run, b):
        for _ in range(3):
            r.train_iteration()
    for name in run.nets:                               # the same data, RNG and weights: an exact continuation
        for p, q in zip(run.nets[name].parameters(), b.nets[name].parameters()):
            assert torch.equal(p, q)


def test_a_checkpoint_with_bad_points_is_refused(tiny_points, tmp_path):
    config, knobs = tiny_points
    path = write_points_file(drawing_to_points(ring_drawing(), n=50), tmp_path)
    run = GANRun(config=config.with_changes(data="points", points_path=str(path)), knobs=knobs)
    ckpt = torch.load(__import__("io").BytesIO(checkpoint_bytes(run)), weights_only=True)
    ckpt["points"] = torch.full((50, 2), float("nan"))
    buf = __import__("io").BytesIO()
    torch.save(ckpt, buf)
    with pytest.raises(ConfigError, match="points"):
        read_checkpoint(buf.getvalue())


def test_energy_distance_sits_at_its_floor_for_real_data_and_far_above_for_a_collapsed_g():
    src = build_source(RunConfig(data="spiral"), CPU)
    real, real2, real3 = (src.real_sample(1000, seed=s)[0].numpy() for s in (1, 2, 3))
    m = points_metrics(real3, real, real2)              # a perfect G: fakes are more real points
    assert m["energy"] < 3 * m["energy_floor"] and m["coverage"] > 0.9 and m["precision"] > 0.9
    collapsed = np.tile(real3[:1], (1000, 1))           # every fake on one point of the spiral
    c = points_metrics(collapsed, real, real2)
    assert c["energy"] > 100 * m["energy_floor"] and c["coverage"] < 0.05
    assert energy_distance(real, real) == pytest.approx(0.0, abs=1e-9)


def test_the_quality_of_curves_and_drawn_points_is_the_energy_distance(tiny_points):
    config, knobs = tiny_points
    run = GANRun(config=config.with_changes(data="moons"), knobs=knobs)
    result = run.family.quality_job(500)()
    assert result["kind"] == "points" and result["energy"] > result["energy_floor"] > 0
    assert 0 <= result["coverage"] <= 1 and 0 <= result["precision"] <= 1


def test_the_manifold_is_g_over_a_latent_grid_with_other_dims_at_zero(tiny_points):
    z = latent_grid(6, steps=5, span=2.0)
    assert z.shape == (25, 6) and torch.all(z[:, 2:] == 0)
    assert z[0, :2].tolist() == [-2.0, -2.0] and z[1, :2].tolist() == [-1.0, -2.0]
    config, knobs = tiny_points
    run = GANRun(config=config, knobs=knobs)
    job = run.visuals_job()()
    grid = job["field"]["manifold"]
    assert grid["points"].shape == (21, 21, 2) and grid["latent_dim"] == config.latent_dim
    G = run.sampler()
    with torch.no_grad():
        expected = G.eval()(latent_grid(config.latent_dim)[:1]).numpy()
    np.testing.assert_allclose(grid["points"][0, 0], expected[0], rtol=1e-5, atol=1e-6)


def test_the_image_grid_carries_d_score_per_sample(tiny_digits):
    config, knobs = tiny_digits
    run = GANRun(config=config, knobs=knobs)
    visuals = run.visuals_job()()
    scores = visuals["grid_scores"]
    n = len(run.family.fixed_z)
    assert len(scores["prob"]) == n == len(scores["logit"]) and all(0 <= p <= 1 for p in scores["prob"])
    assert scores["ncol"] == 8 and scores["tile"] == (28, 28)
    np.testing.assert_allclose(scores["prob"], 1 / (1 + np.exp(-np.array(scores["logit"]))), atol=1e-3)
