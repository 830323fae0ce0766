"""GAN losses: pure functions of D's logits, one (d, g) pair per loss, each minimised by its player.

Notation: l_r = D's logits on real x, l_f = D's logits on fake G(z), D(.) = sigmoid(logit) the probability "real".
BCE(l, t) = -[t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))] = softplus(l) - t*l, computed stably from logits.

minimax   Goodfellow et al. 2014: min_G max_D E log D(x) + E log(1 - D(G(z))). As the seed scripts write it,
          d = (BCE(l_r, 1) + BCE(l_f, 0)) / 2 and G minimises E log(1 - D(G(z))) = -E softplus(l_f): the paper's
          minimax G loss. It saturates: when D confidently rejects fakes, D(G(z)) ~ 0 and G's gradient vanishes.
ns        the paper's non-saturating fix: same d; G minimises -E log D(G(z)) = BCE(l_f, 1) = E softplus(-l_f).
lsgan     Mao et al. 2017 (a=0, b=1, c=1) on raw outputs: d = (E (l_r - 1)^2 + E l_f^2) / 2, g = E (l_f - 1)^2 / 2.
hinge     Lim & Ye 2017, Miyato et al. 2018: d = E relu(1 - l_r) + E relu(1 + l_f), g = -E l_f.
wgan-gp   Gulrajani et al. 2017: the critic minimises E l_f - E l_r (+ lambda * gradient_penalty), g = -E l_f.
          For hinge and wgan-gp the logit is a score, not a log-odds; sigmoid(score) is still shown as D(.) so the
          curves stay comparable, but it is not a probability there.

One-sided label smoothing (Salimans et al. 2016) replaces the real target 1 by 1 - s in minimax, ns and lsgan;
it has no meaning for hinge and wgan-gp, which ignore it.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F


def bce_with_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean BCE(l, t) = softplus(l) - t * l."""
    return (F.softplus(logits) - target * logits).mean()


def bce_d(l_r: torch.Tensor, l_f: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """D's loss of the seeds: (BCE(D(x), 1 - s) + BCE(D(G(z)), 0)) / 2. Minimising it maximises the GAN value."""
    return (bce_with_logits(l_r, 1.0 - smoothing) + bce_with_logits(l_f, 0.0)) / 2


def minimax_g(l_f: torch.Tensor) -> torch.Tensor:
    """G minimises E log(1 - D(G(z))) = -E softplus(l_f) (negative, falling to -inf as G fools D)."""
    return -F.softplus(l_f).mean()


def ns_g(l_f: torch.Tensor) -> torch.Tensor:
    """G minimises -E log D(G(z)) = E softplus(-l_f): same fixed point as minimax, strong gradients early."""
    return F.softplus(-l_f).mean()


def lsgan_d(l_r: torch.Tensor, l_f: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    return (((l_r - (1.0 - smoothing)) ** 2).mean() + (l_f ** 2).mean()) / 2


def lsgan_g(l_f: torch.Tensor) -> torch.Tensor:
    return ((l_f - 1.0) ** 2).mean() / 2


def hinge_d(l_r: torch.Tensor, l_f: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    return F.relu(1.0 - l_r).mean() + F.relu(1.0 + l_f).mean()


def wasserstein_d(l_r: torch.Tensor, l_f: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """The critic's estimate of -W1 (up to the Lipschitz constraint): E l_f - E l_r."""
    return l_f.mean() - l_r.mean()


def score_g(l_f: torch.Tensor) -> torch.Tensor:
    """G raises the critic's score on fakes: -E l_f (hinge and wgan-gp)."""
    return -l_f.mean()


class LossPair(NamedTuple):
    d: Callable[..., torch.Tensor]   # d(l_r, l_f, smoothing) -> scalar
    g: Callable[[torch.Tensor], torch.Tensor]
    gradient_penalty: bool           # add lambda * gradient_penalty to d
    blurb: str                       # one line for the UI


LOSSES: dict[str, LossPair] = {
    "minimax": LossPair(bce_d, minimax_g, False, "the paper's minimax game: G minimises log(1 - D(G(z))); saturates early"),
    "ns": LossPair(bce_d, ns_g, False, "non-saturating: G maximises log D(G(z)); the default in practice"),
    "lsgan": LossPair(lsgan_d, lsgan_g, False, "least squares on D's raw output; smooth gradients"),
    "hinge": LossPair(hinge_d, score_g, False, "hinge margin for D, raw score for G (SNGAN, BigGAN)"),
    "wgan-gp": LossPair(wasserstein_d, score_g, True, "Wasserstein critic with a gradient penalty"),
}


def _grad_norm_sq(outputs: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Per-sample ||d outputs / d inputs||^2, keeping the graph (for a penalty that is itself differentiated)."""
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=True)
    return grad.flatten(1).pow(2).sum(1)  # (B,)


def gradient_penalty(discriminator, real: torch.Tensor, fake: torch.Tensor, y: Optional[torch.Tensor],
                     generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """WGAN-GP: E_xhat (||grad D(xhat)|| - 1)^2, xhat = e*x + (1-e)*G(z), e ~ U(0, 1) per sample (Gulrajani 2017)."""
    shape = (len(real),) + (1,) * (real.dim() - 1)
    e = torch.rand(shape, device=real.device, generator=generator)
    xhat = (e * real + (1 - e) * fake.detach()).requires_grad_(True)
    return ((_grad_norm_sq(discriminator(xhat, y), xhat) + 1e-12).sqrt() - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E_x ||grad_x D(x)||^2 on real data; the trainer adds gamma/2 times it to D's loss.
    ``real`` must have requires_grad set before D was applied to it."""
    return _grad_norm_sq(real_logits, real).mean()
