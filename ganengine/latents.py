"""Latent-space utilities: seeded latents, interpolation, walks, class sweeps, and principal directions.

- A seed names a latent: z = N(0, I) drawn from torch.Generator().manual_seed(seed) on the CPU (same on every device).
- lerp(a, b, t) = (1 - t) a + t b.
- slerp(a, b, t) = sin((1 - t) w) / sin w * a + sin(t w) / sin w * b, w = angle(a, b) (Shoemake 1985; White 2016,
  "Sampling Generative Networks"): for Gaussian latents it keeps |z| near sqrt(d), where G was trained, whereas
  the lerp midpoint of two independent latents has norm about sqrt(d / 2).
- Directions: SeFa (Shen & Zhou 2021, "Closed-Form Factorization of Latent Semantics in GANs"): the top
  eigenvectors of A^T A, where A is the weight of G's first layer acting on z. Moving z along eigenvector n changes
  that layer's output the most, so these are the principal directions of G's response. Closed form: no sampling.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def latent_for_seed(seed: int, dim: int) -> torch.Tensor:
    """The latent (dim,) that a seed names."""
    return torch.randn(dim, generator=torch.Generator().manual_seed(int(seed)))


def sample_latents(n: int, dim: int, seed: int) -> torch.Tensor:
    """n latents (n, dim) from one seed; the fixed noise of a run uses the stream ganengine.seeds.FIXED_NOISE."""
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(int(seed)))


def lerp(a: torch.Tensor, b: torch.Tensor, t) -> torch.Tensor:
    """(dim,), (dim,), t scalar or (T,) -> (dim,) or (T, dim)."""
    t = torch.as_tensor(t, dtype=a.dtype)
    return a + t.unsqueeze(-1) * (b - a) if t.ndim else a + t * (b - a)


def slerp(a: torch.Tensor, b: torch.Tensor, t, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation; falls back to lerp when a and b are (anti)parallel."""
    t = torch.as_tensor(t, dtype=a.dtype)
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    so = torch.sin(omega)
    if so.abs() < eps:
        return lerp(a, b, t)
    tt = t.unsqueeze(-1) if t.ndim else t
    return torch.sin((1 - tt) * omega) / so * a + torch.sin(tt * omega) / so * b


def angle_degrees(a: torch.Tensor, b: torch.Tensor) -> float:
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1.0, 1.0)
    return math.degrees(float(torch.arccos(cos)))


def interpolation_path(a: torch.Tensor, b: torch.Tensor, frames: int, method: str = "slerp") -> torch.Tensor:
    """frames latents (frames, dim) from a to b inclusive."""
    if method not in ("lerp", "slerp"):
        raise ValueError(f"method must be lerp or slerp, got {method!r}")
    t = torch.linspace(0, 1, frames)
    return (slerp if method == "slerp" else lerp)(a, b, t)


def walk(z: torch.Tensor, direction: torch.Tensor, amounts) -> torch.Tensor:
    """z + alpha * d / |d| for each alpha in amounts: (T, dim)."""
    d = direction / direction.norm()
    return z + torch.as_tensor(amounts, dtype=z.dtype).unsqueeze(-1) * d


def apply_offsets(z: torch.Tensor, directions: torch.Tensor, offsets) -> torch.Tensor:
    """z + sum_i offsets[i] * directions[i]; directions (k, dim) unit vectors, offsets (k,) in units of sigma."""
    offsets = torch.as_tensor(offsets, dtype=z.dtype)
    return z + offsets @ directions


def class_sweep(z: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One latent across every class: (num_classes, dim) copies of z and labels 0..num_classes-1."""
    return z.expand(num_classes, -1).clone(), torch.arange(num_classes)


def first_layer_weight(G: nn.Module, latent_dim: int) -> torch.Tensor:
    """A (out_features, latent_dim): the weight of G's first layer restricted to the latent inputs."""
    for m in G.modules():
        if isinstance(m, nn.Linear):
            return m.weight.detach()[:, :latent_dim]                             # (out, in)
        if isinstance(m, nn.ConvTranspose2d):
            w = m.weight.detach()                                                # (in, out, k, k)
            return w[:latent_dim].reshape(latent_dim, -1).T                      # (out*k*k, latent)
    raise ValueError("the generator has no Linear or ConvTranspose2d layer")


def sefa_directions(G: nn.Module, latent_dim: int, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """(k, latent_dim) unit directions and their eigenvalues (k,), strongest first (SeFa)."""
    A = first_layer_weight(G, latent_dim).float().cpu()
    evals, evecs = torch.linalg.eigh(A.T @ A)          # ascending
    order = torch.argsort(evals, descending=True)[:k]
    return evecs[:, order].T.contiguous(), evals[order]
