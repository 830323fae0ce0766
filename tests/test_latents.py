"""Latent utilities: seeds, lerp, slerp, walks, class sweeps and SeFa directions."""
import pytest
import torch

from ganengine.latents import (angle_degrees, apply_offsets, class_sweep, interpolation_path, latent_for_seed, lerp,
                               sefa_directions, slerp, walk)


def test_seed_names_a_latent():
    assert torch.equal(latent_for_seed(5, 16), latent_for_seed(5, 16))
    assert not torch.equal(latent_for_seed(5, 16), latent_for_seed(6, 16))


def test_lerp_and_slerp_endpoints():
    a, b = latent_for_seed(1, 64), latent_for_seed(2, 64)
    for f in (lerp, slerp):
        assert torch.allclose(f(a, b, 0.0), a, atol=1e-5) and torch.allclose(f(a, b, 1.0), b, atol=1e-5)
        path = f(a, b, torch.linspace(0, 1, 5))
        assert path.shape == (5, 64)


def test_slerp_keeps_the_norm_lerp_shrinks_it():
    a, b = latent_for_seed(1, 512), latent_for_seed(2, 512)
    mid_s, mid_l = slerp(a, b, 0.5), lerp(a, b, 0.5)
    assert float(mid_s.norm()) == pytest.approx(float((a.norm() + b.norm()) / 2), rel=0.02)
    assert float(mid_l.norm()) < 0.8 * float(a.norm())
    assert angle_degrees(a, b) == pytest.approx(90, abs=6)  # independent high-dim Gaussians are near-orthogonal


def test_slerp_parallel_falls_back_to_lerp():
    a = latent_for_seed(1, 8)
    assert torch.allclose(slerp(a, 2 * a, 0.5), 1.5 * a, atol=1e-5)


def test_walk_offsets_and_sweep():
    z, d = torch.zeros(4), torch.tensor([0.0, 3.0, 0.0, 4.0])
    w = walk(z, d, [0.0, 5.0])
    assert torch.allclose(w[1], torch.tensor([0.0, 3.0, 0.0, 4.0]))
    dirs = torch.eye(4)[:2]
    assert torch.allclose(apply_offsets(z, dirs, [1.0, -2.0]), torch.tensor([1.0, -2.0, 0.0, 0.0]))
    zs, ys = class_sweep(latent_for_seed(0, 4), 10)
    assert zs.shape == (10, 4) and ys.tolist() == list(range(10)) and torch.equal(zs[0], zs[9])
    assert interpolation_path(z, d, 3, "lerp").shape == (3, 4)


def test_sefa_directions_are_orthonormal_and_strongest_first():
    from ganengine.config import RunConfig
    from ganengine.data.spec import DataSpec
    from ganengine.models import build_models
    for model in ("dcgan", "cgan", "mlp"):
        G, _ = build_models(RunConfig(data="mnist", model=model, latent_dim=12, width=8),
                            DataSpec(name="m", title="m", kind="image", shape=(1, 28, 28), num_classes=10))
        dirs, evals = sefa_directions(G, 12, k=4)
        assert dirs.shape == (4, 12)
        assert torch.allclose(dirs @ dirs.T, torch.eye(4), atol=1e-4)
        assert torch.all(evals[:-1] >= evals[1:])
