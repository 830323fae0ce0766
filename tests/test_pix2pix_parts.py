"""pix2pix building blocks: U-Net, PatchGAN, paired digits, PSNR/SSIM, and a short training that lowers L1."""
import math

import numpy as np
import pytest
import torch

from ganengine.config import ConfigError
from ganengine.data.paired import (HELD_OUT_PER_CLASS, TASKS, PairedDigitSource, canny_edges, held_out_indices,
                                   load_paired_digits)
from ganengine.metrics.image_quality import centre_crop, psnr, ssim, translation_metrics
from ganengine.models.patchgan import PatchDiscriminator, receptive_field
from ganengine.models.unet import UNetGenerator, unet_depth


@pytest.fixture(scope="module")
def edges():
    return PairedDigitSource("edges2digits", seed=3)


# --- models ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size,width,dropout", [(32, 8, 0.0), (32, 16, 0.5), (16, 4, 0.0)])
def test_unet_shapes_and_range(size, width, dropout):
    torch.manual_seed(0)
    g = UNetGenerator(width=width, image_size=size, dropout=dropout)
    y = g(torch.randn(3, 1, size, size))
    assert y.shape == (3, 1, size, size) and y.abs().max() <= 1
    assert sum(isinstance(m, torch.nn.Dropout) for m in g.modules()) == (min(3, unet_depth(size) - 2) if dropout else 0)


def test_unet_skips_reach_the_output():
    """Changing one input pixel changes the output near it through the 16x16 skip, and eval mode is deterministic."""
    torch.manual_seed(0)
    g = UNetGenerator(width=8).eval()
    x = torch.zeros(1, 1, 32, 32)
    x2 = x.clone()
    x2[0, 0, 10, 10] = 1.0
    with torch.no_grad():
        assert torch.equal(g(x), g(x))
        assert (g(x2) - g(x)).abs()[0, 0, 8:13, 8:13].max() > 0


def test_unet_refuses_other_sizes():
    with pytest.raises(ConfigError, match="28 -> 32"):
        UNetGenerator(image_size=28)


@pytest.mark.parametrize("n_layers,side,field", [(1, 14, 16), (2, 6, 34), (3, 2, 70)])
def test_patchgan_patches(n_layers, side, field):
    d = PatchDiscriminator(width=8, n_layers=n_layers)
    assert d(torch.randn(2, 1, 32, 32), torch.randn(2, 1, 32, 32)).shape == (2, 1, side, side)
    assert receptive_field(n_layers) == field


def test_patchgan_sees_the_condition():
    torch.manual_seed(0)
    d = PatchDiscriminator(width=8).eval()
    y = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(d(torch.zeros_like(y), y), d(torch.ones_like(y), y))


# --- data -----------------------------------------------------------------------------------------------------------

def test_split_is_fixed_disjoint_and_balanced():
    data = load_paired_digits("blur2digits")
    train, test = data["train"], data["test"]
    assert len(test) == 500 and len(train) == 4500
    assert not set(train.tolist()) & set(test.tolist())
    assert torch.bincount(data["label"][test], minlength=10).tolist() == [HELD_OUT_PER_CLASS] * 10
    assert np.array_equal(test.numpy(), held_out_indices(data["label"].numpy()))   # the same every time
    # the held-out digits are among those the bundled classifier held out (its first 100 per class)
    assert set(test.tolist()) <= set(held_out_indices(data["label"].numpy(), per_class=100).tolist())


@pytest.mark.parametrize("task", sorted(TASKS))
def test_pairs_shapes_ranges_and_inputs(task):
    data = load_paired_digits(task)
    assert data["input"].shape == data["target"].shape == (5000, 1, 32, 32)
    assert data["input"].dtype == data["target"].dtype == torch.uint8
    assert data["target"][..., :2, :].max() == 0 and data["target"][..., -2:].max() == 0  # the 28 -> 32 padding
    assert not torch.equal(data["input"], data["target"])
    if task == "edges2digits":
        assert set(data["input"].unique().tolist()) == {0, 255}
        # thin outlines: fewer lit pixels than the digit's strokes cover, yet some on every digit
        lit = (data["input"] > 0).flatten(1).sum(1)
        assert lit.min() > 0 and lit.float().mean() < (data["target"] > 127).flatten(1).sum(1).float().mean() * 1.5


def test_canny_edges_of_a_square_are_its_outline():
    x = torch.zeros(1, 1, 32, 32)
    x[..., 10:22, 10:22] = 1.0
    e = canny_edges(x)[0, 0]
    assert not e[13:19, 13:19].any() and not e[:5].any()      # nothing inside or far outside
    assert e[8:24, 8:24].sum() >= 40                         # a closed-ish contour around the 12x12 square


def test_sampler_values_and_exact_replay(edges):
    a, b, y = edges.sample(8)
    assert a.shape == b.shape == (8, 1, 32, 32) and y.shape == (8,) and y.dtype == torch.int64
    assert a.min() >= -1 and a.max() <= 1 and b.min() >= -1 and b.max() <= 1
    for _ in range(300):  # cross an epoch boundary (4,500 / 16 ~ 281 batches)
        edges.sample(16)
    state = edges.get_state()
    first = [edges.sample(16) for _ in range(5)]
    edges.set_state(state)
    again = [edges.sample(16) for _ in range(5)]
    assert all(torch.equal(u, v) for p, q in zip(first, again) for u, v in zip(p, q))
    bad = dict(state, perm=state["perm"][:10])
    with pytest.raises(ValueError, match="4,500"):
        edges.set_state(bad)


def test_sampler_seeds_and_held_out_are_fixed(edges):
    other = PairedDigitSource("edges2digits", seed=4)
    assert not torch.equal(PairedDigitSource("edges2digits", seed=3).sample(16)[1], other.sample(16)[1])
    a1, b1, y1 = edges.held_out()
    a2, b2, y2 = other.held_out()
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and torch.equal(y1, y2) and len(y1) == 500
    train_targets = {bytes(t.numpy()) for t in edges.targets[:1000]}
    assert not train_targets & {bytes(t.numpy()) for t in edges.test_targets}


def test_unknown_task():
    with pytest.raises(ConfigError, match="edges2digits"):
        load_paired_digits("sketch2cat")


# --- metrics --------------------------------------------------------------------------------------------------------

def test_psnr_known_values():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 32, 32, generator=g) * 2 - 1
    assert torch.equal(psnr(x, x), torch.full((4,), 100.0))                    # identical: capped
    assert torch.allclose(psnr(x, x + 0.1), torch.full((4,), 20 * math.log10(2 / 0.1)))  # MSE 0.01 -> 26.02 dB
    noise = 0.05 * torch.randn(4, 1, 32, 32, generator=g)
    expected = 10 * torch.log10(4 / noise.pow(2).flatten(1).mean(1))
    assert torch.allclose(psnr(x, x + noise), expected, atol=1e-4)
    assert psnr(x, x + noise).mean().item() == pytest.approx(10 * math.log10(4 / 0.05 ** 2), abs=0.3)  # ~32.0 dB


def test_ssim_known_values():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 2, 32, 32, generator=g) * 2 - 1
    assert torch.allclose(ssim(x, x), torch.ones(3))
    # constant images: only the luminance term, (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) with C1 = (0.01 * 2)^2
    a, b = torch.full((1, 1, 16, 16), 0.5), torch.full((1, 1, 16, 16), -0.5)
    c1 = 0.02 ** 2
    assert ssim(a, b).item() == pytest.approx((2 * 0.5 * -0.5 + c1) / (0.25 + 0.25 + c1), abs=1e-6)
    # independent images score near 0; more noise, lower SSIM; symmetric
    assert ssim(x, torch.rand(3, 2, 32, 32, generator=g) * 2 - 1).abs().max() < 0.1
    n1, n2 = (s * torch.randn(3, 2, 32, 32, generator=g) for s in (0.1, 0.4))
    assert (ssim(x, x + n1) > ssim(x, x + n2)).all()
    assert torch.allclose(ssim(x, x + n1), ssim(x + n1, x))
    with pytest.raises(ValueError):
        ssim(x[..., :8, :8], x[..., :8, :8])


def test_translation_metrics_of_real_digits(edges):
    a, b, y = edges.held_out()
    same = translation_metrics(b, b, y)
    assert same["l1"] == 0 and same["psnr"] == 100 and same["ssim"] == pytest.approx(1)
    assert same["accuracy"] > 0.95        # the classifier reads the real held-out digits (97.8%)
    assert centre_crop(b).shape == (500, 1, 28, 28) and torch.equal(centre_crop(b), b[..., 2:30, 2:30])
    blank = translation_metrics(torch.full_like(b, -1), b, y)
    assert blank["accuracy"] < 0.2 and blank["ssim"] < same["ssim"]


# --- training -------------------------------------------------------------------------------------------------------

def test_twenty_iterations_lower_l1():
    from bench.pix2pix_probe import ProbeConfig, build, train_step
    # lr 2e-3 (10x the paper's) so that 20 steps of a width-8 U-Net show the drop clearly
    g, d, opt_g, opt_d, source = build(ProbeConfig(width=8, d_width=8, batch=8, lr=2e-3, seed=0))
    fixed = source.sample(8)
    with torch.no_grad():
        before = (g(fixed[0]) - fixed[1]).abs().mean().item()
    for _ in range(20):
        out = train_step(g, d, opt_g, opt_d, source.sample(8))
    assert all(torch.isfinite(v) for v in out.values())
    with torch.no_grad():
        after = (g(fixed[0]) - fixed[1]).abs().mean().item()
    assert after < 0.5 * before
