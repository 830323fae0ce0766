"""The generator's manifold for 2-D data: how G warps a regular grid of its latent space (GAN Lab's manifold view).

GAN Lab (Kahng et al. 2019, "GAN Lab: Understanding Complex Deep Generative Models using Interactive Visual
Experimentation", IEEE TVCG 25(1), section 4.1) draws G's output for a regular grid over its 2-D latent space, with
lines between neighbouring grid points: where the mesh stretches, G spreads little probability mass; where it folds
or bunches, G piles mass up. Our z ~ N(0, I) (ganengine.latents), so the grid spans [-SPAN, SPAN] = +-2 standard
deviations on each axis (95% of each coordinate's mass). With a latent of more than 2 dimensions only z_1 and z_2 vary
over the grid and the rest stay 0 (their mean): a 2-D slice through the latent space, said in the caption.
"""
from __future__ import annotations

import numpy as np
import torch

STEPS = 21     # grid points per latent axis (21 x 21 = 441 latents through G: negligible beside the field)
SPAN = 2.0     # the grid covers [-SPAN, SPAN] in z_1 and z_2


def latent_grid(latent_dim: int, steps: int = STEPS, span: float = SPAN) -> torch.Tensor:
    """(steps * steps, latent_dim): z_1 along a row (fastest), z_2 down the rows, every other dimension 0."""
    axis = torch.linspace(-span, span, steps)
    z2, z1 = torch.meshgrid(axis, axis, indexing="ij")                       # (steps, steps) each
    z = torch.zeros(steps * steps, latent_dim)
    z[:, 0] = z1.reshape(-1)
    if latent_dim > 1:
        z[:, 1] = z2.reshape(-1)
    return z


@torch.no_grad()
def manifold(generate, latent_dim: int, device, steps: int = STEPS, span: float = SPAN) -> dict:
    """generate: latents (B, latent_dim) on device -> points (B, 2). Returns {"points": float32 (steps, steps, 2),
    G's image of the grid, row i = z_2 fixed; "latent_dim"; "span"}."""
    z = latent_grid(latent_dim, steps, span).to(device)
    pts = generate(z).float().cpu().numpy().reshape(steps, steps, -1)[..., :2]
    return {"points": pts.astype(np.float32), "latent_dim": int(latent_dim), "span": float(span)}


def manifold_caption(latent_dim: int) -> str:
    if latent_dim <= 2:
        return f"G's image of a regular grid over its {latent_dim}-D latent space (z in [-{SPAN:g}, {SPAN:g}])"
    return (f"G's image of a grid over z1, z2 in [-{SPAN:g}, {SPAN:g}], the other {latent_dim - 2} latent dimensions "
            f"held at 0: a 2-D slice of its {latent_dim}-D latent space")
