"""The progressive GAN's quality report (ganengine.families.progan): what G draws at the final size, 32 px.

- Digits (mnist32): ganengine.metrics.digits on the samples centre-cropped 32 -> 28 (the padding removed, so the
  digit keeps its size): FD in the bundled classifier's features against the same real reference half as every
  digit run (the dcgan-mnist preset's measure), classes present, the class histogram, confidence.
- Every dataset: SWD x 1e3 over the Laplacian levels 32 and 16 px (ganengine.metrics.swd) between 1,000 samples
  and 1,000 real images, and its real-vs-real floor (1,000 other real images).
Before G reaches 32 px its samples are its current level's images scaled up (nearest neighbour), as `sample`
writes them; the report says at which level and alpha it was measured.
"""
from __future__ import annotations

import torch

from ganengine.latents import sample_latents
from ganengine.metrics.evaluate import EVAL_SEED
from ganengine.metrics.image_quality import centre_crop
from ganengine.metrics.swd import swd

N_SWD = 1000           # images per side of an SWD measurement


@torch.no_grad()
def samples(G, latent_dim: int, n: int, seed: int = EVAL_SEED, chunk: int = 500) -> torch.Tensor:
    """n samples of G at the final size (B, C, 32, 32), on the CPU, from the fixed evaluation latents."""
    device = next(G.parameters()).device
    z = sample_latents(n, latent_dim, seed)
    return torch.cat([G(c.to(device)).float().cpu() for c in z.split(chunk)])


def swd_floor(real: torch.Tensor) -> float:
    """SWD between the two halves of a real reference of 2 x N_SWD images."""
    return swd(real[:N_SWD], real[N_SWD:2 * N_SWD])["swd"]


def progan_report(G, *, data: str, latent_dim: int, real: torch.Tensor, floor: float, n: int = 2500,
                  seed: int = EVAL_SEED) -> dict:
    """The module docstring's metrics of G (eval mode) against ``real`` (>= N_SWD real images in [-1, 1]), from
    the latents of ``seed``."""
    level, alpha = G.growth()
    fake = samples(G, latent_dim, max(n, N_SWD), seed)                                    # (n, C, 32, 32)
    out = {"kind": "progan", "data": data, "resolution": 4 * 2 ** level, "alpha": alpha, "n": len(fake),
           **swd(real[:N_SWD], fake[:N_SWD]), "swd_floor": floor}
    if data == "mnist32":
        from ganengine.metrics.digits import digit_metrics
        out.update(digit_metrics(centre_crop(fake[:n])))                              # (n, 1, 28, 28) as MNIST
    return out
