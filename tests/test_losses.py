"""Loss values against hand computations, including the seed scripts' BCE formulas."""
import math

import pytest
import torch
from torch import nn

from ganengine.losses import LOSSES, gradient_penalty, r1_penalty

l_r = torch.tensor([2.0, -1.0, 0.5])
l_f = torch.tensor([-3.0, 0.0, 1.0])
sig = torch.sigmoid


def test_d_loss_matches_the_seeds_bce():
    """PyTorch-GAN gan.py: real_loss = BCE(D(x), valid); fake_loss = BCE(D(G(z)), fake); d = (real + fake) / 2."""
    bce = nn.BCELoss()
    expected = (bce(sig(l_r), torch.ones(3)) + bce(sig(l_f), torch.zeros(3))) / 2
    for name in ("minimax", "ns"):
        assert float(LOSSES[name].d(l_r, l_f)) == pytest.approx(float(expected), rel=1e-6)


def test_d_loss_by_hand():
    real = -sum(math.log(1 / (1 + math.exp(-v))) for v in (2.0, -1.0, 0.5)) / 3
    fake = -sum(math.log(1 - 1 / (1 + math.exp(-v))) for v in (-3.0, 0.0, 1.0)) / 3
    assert LOSSES["ns"].d(l_r, l_f) == pytest.approx((real + fake) / 2, rel=1e-6)


def test_label_smoothing_changes_only_the_real_target():
    bce = nn.BCELoss()
    expected = (bce(sig(l_r), torch.full((3,), 0.9)) + bce(sig(l_f), torch.zeros(3))) / 2
    assert LOSSES["ns"].d(l_r, l_f, 0.1) == pytest.approx(float(expected), rel=1e-6)


def test_minimax_g_is_the_papers_log_one_minus_d():
    expected = sum(math.log(1 - 1 / (1 + math.exp(-v))) for v in (-3.0, 0.0, 1.0)) / 3
    assert LOSSES["minimax"].g(l_f) == pytest.approx(expected, rel=1e-6)


def test_ns_g_is_bce_with_real_labels():
    """gan.py's g_loss = BCE(D(G(z)), valid) = -E log D(G(z))."""
    expected = nn.BCELoss()(sig(l_f), torch.ones(3))
    assert LOSSES["ns"].g(l_f) == pytest.approx(float(expected), rel=1e-6)


def test_minimax_saturates_where_ns_does_not():
    very_fake = torch.tensor([-10.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(LOSSES["minimax"].g(very_fake), very_fake)
    (g_ns,) = torch.autograd.grad(LOSSES["ns"].g(very_fake), very_fake)
    assert abs(float(g_mm)) < 1e-4 < abs(float(g_ns))


def test_lsgan_hinge_wgan_by_hand():
    assert LOSSES["lsgan"].d(l_r, l_f) == pytest.approx((((1.0 ** 2 + 2.0 ** 2 + 0.5 ** 2) / 3) + ((9 + 0 + 1) / 3)) / 2)
    assert LOSSES["lsgan"].g(l_f) == pytest.approx((16 + 1 + 0) / 3 / 2)
    assert LOSSES["hinge"].d(l_r, l_f) == pytest.approx((0 + 2 + 0.5) / 3 + (0 + 1 + 2) / 3)
    assert LOSSES["hinge"].g(l_f) == pytest.approx(-(-3 + 0 + 1) / 3)
    assert LOSSES["wgan-gp"].d(l_r, l_f) == pytest.approx((-3 + 0 + 1) / 3 - (2 - 1 + 0.5) / 3)
    assert LOSSES["wgan-gp"].gradient_penalty and not LOSSES["ns"].gradient_penalty


class Linear2D(nn.Module):
    """D(x) = w . x: its input gradient is w everywhere."""
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x, y=None):
        return x @ self.w


def test_gradient_penalty_of_a_linear_critic():
    D = Linear2D([3.0, 4.0])  # |w| = 5 -> (5 - 1)^2 = 16
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert float(gradient_penalty(D, real, fake, None)) == pytest.approx(16.0, rel=1e-5)


def test_r1_penalty_of_a_linear_critic():
    D = Linear2D([3.0, 4.0])  # ||grad||^2 = 25
    real = torch.randn(8, 2, requires_grad=True)
    assert float(r1_penalty(D(real), real)) == pytest.approx(25.0, rel=1e-5)
