"""The adversarial terms of every family, in one place: the loss knob, GP, R1, label smoothing, D's outputs.

A family hands over a *critic*: D with its conditioning bound, a function x -> logits (a cGAN's D(x, y), pix2pix's
PatchGAN D(a, x) with its (B, 1, h, w) patch logits), and gets back the losses of ganengine.losses for the knob
``loss`` (minimax, ns, lsgan, hinge, wgan-gp; each d_/g_ pair is documented there):
  L_D = d(l_r, l_f; s) + [wgan-gp] lambda_GP * E (||grad D(x_hat)|| - 1)^2 + gamma/2 * E ||grad_x D(x)||^2 (R1)
  L_G = g(l_f)
with s the one-sided label smoothing (Salimans et al. 2016), lambda_GP = gp_weight (Gulrajani et al. 2017) and
gamma = r1_weight (Mescheder et al. 2018). Every D update's logits are kept (the last N_HIST_BATCHES), so every
family gets the D-output histograms for free.
"""
from __future__ import annotations

from collections import deque

import torch

from ganengine.losses import LOSSES, gradient_penalty, r1_penalty

N_HIST_BATCHES = 4  # D-output histograms use the last few D updates


class Adversarial:
    def __init__(self):
        self.recent: deque = deque(maxlen=N_HIST_BATCHES)  # (real logits, fake logits), detached

    def d_loss(self, critic, real: torch.Tensor, fake: torch.Tensor, knobs, generator: torch.Generator):
        """(L_D, l_r, l_f) for a real and a (detached) fake batch; l_r, l_f are D's logits (graph kept).
        generator: the run's noise stream (WGAN-GP's interpolation weights come from it)."""
        pair = LOSSES[knobs.loss]
        if knobs.r1_weight > 0:
            real.requires_grad_(True)      # R1 differentiates D's output with respect to the real input
        l_r, l_f = critic(real), critic(fake)
        loss = pair.d(l_r, l_f, knobs.label_smoothing)
        if pair.gradient_penalty and knobs.gp_weight > 0:
            loss = loss + knobs.gp_weight * gradient_penalty(lambda x, _y: critic(x), real.detach(), fake, None,
                                                             generator)
        if knobs.r1_weight > 0:
            loss = loss + 0.5 * knobs.r1_weight * r1_penalty(l_r, real)
        return loss, l_r, l_f

    def record(self, l_r: torch.Tensor, l_f: torch.Tensor) -> None:
        """Keep one D update's detached logits for the histograms."""
        self.recent.append((l_r, l_f))

    @staticmethod
    def g_loss(l_f: torch.Tensor, knobs) -> torch.Tensor:
        """G's adversarial term g(D(G(z))) for the knob's loss."""
        return LOSSES[knobs.loss].g(l_f)

    def histograms(self) -> dict:
        """D(x) and D(G(z)) (sigmoid of the logits) of the last few D updates, as flat numpy arrays."""
        if not self.recent:
            return {}
        l_r = torch.cat([r.flatten() for r, _ in self.recent])
        l_f = torch.cat([f.flatten() for _, f in self.recent])
        return {"real": torch.sigmoid(l_r).float().cpu().numpy(), "fake": torch.sigmoid(l_f).float().cpu().numpy()}

    def clear(self) -> None:
        self.recent.clear()
