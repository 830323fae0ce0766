"""CoGAN's coupled networks (Liu & Tuzel 2016, "Coupled Generative Adversarial Networks", section 3 and Figure 1).

Two DCGAN-style generators (Radford et al. 2016) draw one image each from the same z. Their first ``shared`` layers
are the *same module objects* (one set of weights): they decode the high-level content ("which digit, which slant").
Their remaining layers are their own: they render that content in each domain's low-level style (a digit, its
negative, its edges). The two discriminators mirror this: their first layers are their own (each domain's low-level
features), their last ``shared`` layers are the same objects. With ``shared = 0`` they are two unrelated GANs, and
nothing ties G1(z) to G2(z) (the paper's section 5, Figure 3: agreement falls as fewer layers are shared).

Generator layers at 32 px (w = width), each a module of the list that is shared or not:
  0  z (B, latent) -> linear -> (B, 4w, 4, 4), BatchNorm, ReLU
  1  ConvT 4w -> 2w, 4x4 -> 8x8, BatchNorm, ReLU
  2  ConvT 2w -> w, 8x8 -> 16x16, BatchNorm, ReLU
  3  ConvT w -> C, 16x16 -> 32x32, tanh      never shared: the layer that makes the two domains look different
Discriminator layers:
  0  conv C -> w, 32 -> 16, LeakyReLU 0.2    never shared: each D reads its own domain's pixels
  1  conv w -> 2w, 16 -> 8, LeakyReLU 0.2
  2  conv 2w -> 4w, 8 -> 4, LeakyReLU 0.2
  3  linear 4w * 4 * 4 -> 1 logit
With ``head="full"`` (G) and ``pool=True`` (D) the nets end as the paper's digit nets do (the
authors' code, mingyuliutw/CoGAN cogan_pytorch/src/net_cogan_mnistedge.py: G's own last layer a stride-1 transposed
conv, D's own first layer a stride-1 5x5 conv + 2x2 max-pool): for thin 1 px edges, which a strided last G layer
draws, and a strided first D layer judges, as a dotted grid (bench/COGAN.md):
  G 3  ConvT w -> w, 16x16 -> 32x32, BatchNorm, ReLU     shared with shared = 3 (all but the head, the paper's way)
  G 4  conv 3x3 w -> C, stride 1, 32x32, tanh             never shared: each domain's own head
  D 0  conv 5x5 C -> w, stride 1, LeakyReLU 0.2, max-pool 2, 32 -> 16    never shared
With shared = 0 to 2 the full-resolution G still shares its first ``shared`` layers.
G shares its first ``shared`` layers, D its last ``shared`` (0 to 3). D has no BatchNorm: a shared BatchNorm would
mix the statistics of the two domains' batches (the paper's digit D has none either). DCGAN's init: N(0, 0.02).
Because the shared G layers see the same z, the generator computes them once and feeds both heads.
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.models.dcgan import dcgan_init

N_LAYERS = 4        # layers of each G and each D
MAX_SHARED = 3      # G's last layer and D's first layer stay each net's own


def _g_layer(i: int, latent_dim: int, channels: int, width: int, full: bool = False) -> nn.Module:
    """Generator layer i of the module docstring's table (full: layer 3 keeps w channels at 32x32, layer 4 the
    stride-1 head)."""
    if i == 4:
        return nn.Sequential(nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())                 # 32x32 -> 32x32
    if i == 3 and full:
        return nn.Sequential(nn.ConvTranspose2d(width, width, 4, 2, 1, bias=False),           # 16x16 -> 32x32
                             nn.BatchNorm2d(width), nn.ReLU(True))
    if i == 0:
        return nn.Sequential(nn.Linear(latent_dim, 4 * width * 16, bias=False),
                             nn.Unflatten(1, (4 * width, 4, 4)),               # (B, 4w * 16) -> (B, 4w, 4, 4)
                             nn.BatchNorm2d(4 * width), nn.ReLU(True))
    if i == 1:
        return nn.Sequential(nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),   # 4x4 -> 8x8
                             nn.BatchNorm2d(2 * width), nn.ReLU(True))
    if i == 2:
        return nn.Sequential(nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),       # 8x8 -> 16x16
                             nn.BatchNorm2d(width), nn.ReLU(True))
    return nn.Sequential(nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())            # 16x16 -> 32x32


def _d_layer(i: int, channels: int, width: int, pool: bool = False) -> nn.Module:
    """Discriminator layer i of the module docstring's table (pool: layer 0 is a stride-1 5x5 conv + 2x2 max-pool,
    the paper's)."""
    if i == 0 and pool:
        return nn.Sequential(nn.Conv2d(channels, width, 5, 1, 2), nn.LeakyReLU(0.2, True), nn.MaxPool2d(2))  # 32 -> 16
    if i == 0:
        return nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True))  # 32 -> 16
    if i == 1:
        return nn.Sequential(nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2, True))  # 16 -> 8
    if i == 2:
        return nn.Sequential(nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2, True))  # 8 -> 4
    return nn.Sequential(nn.Flatten(), nn.Linear(4 * width * 16, 1))                  # (B, 4w, 4, 4) -> (B, 1)


def g_layer_counts(shared: int, full: bool) -> tuple[int, int]:
    """(G layers shared, G layers in all): the full-resolution G has a fifth layer, its own head, and with shared =
    MAX_SHARED shares everything else (4 of 5), as the paper's digit nets do."""
    return shared + (full and shared == MAX_SHARED), N_LAYERS + full


def _check_shared(shared: int) -> int:
    if not 0 <= shared <= MAX_SHARED:
        raise ValueError(f"shared layers must be 0 to {MAX_SHARED}; got {shared}")
    return shared


class CoupledGenerator(nn.Module):
    """G1 and G2 in one module: forward(z) -> (G1(z), G2(z)), each (B, C, 32, 32) in [-1, 1]."""

    def __init__(self, *, latent_dim: int, channels: int = 1, width: int = 32, shared: int = MAX_SHARED,
                 head: str = "convt"):
        super().__init__()
        self.n_shared = _check_shared(shared)
        full = head == "full"
        k, n = g_layer_counts(shared, full)
        self.shared = nn.Sequential(*(_g_layer(i, latent_dim, channels, width, full) for i in range(k)))
        self.own1 = nn.Sequential(*(_g_layer(i, latent_dim, channels, width, full) for i in range(k, n)))
        self.own2 = nn.Sequential(*(_g_layer(i, latent_dim, channels, width, full) for i in range(k, n)))
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.shared(z)                         # (B, latent), or the shared layers' output, once for both
        return self.own1(h), self.own2(h)          # (B, C, 32, 32) each

    def branch(self, k: int) -> nn.Sequential:
        """G1 (k = 0) or G2 (k = 1) alone, built from this module's own layer objects (nothing is copied)."""
        return nn.Sequential(*self.shared, *(self.own1 if k == 0 else self.own2))

    def side_by_side(self, z: torch.Tensor) -> torch.Tensor:
        """One image per z: G1(z) | a mid-grey column | G2(z), (B, C, 32, 65) in [-1, 1]."""
        a, b = self(z)
        return torch.cat([a, torch.zeros_like(a[..., :1]), b], dim=-1)


class CoupledDiscriminator(nn.Module):
    """D1 and D2 in one module: forward(x1, x2) -> (D1(x1), D2(x2)) logits, (B,) each."""

    def __init__(self, *, channels: int = 1, width: int = 32, shared: int = MAX_SHARED, pool: bool = False):
        super().__init__()
        self.n_shared = _check_shared(shared)
        first_shared = N_LAYERS - shared
        self.own1 = nn.Sequential(*(_d_layer(i, channels, width, pool) for i in range(first_shared)))
        self.own2 = nn.Sequential(*(_d_layer(i, channels, width, pool) for i in range(first_shared)))
        self.shared = nn.Sequential(*(_d_layer(i, channels, width) for i in range(first_shared, N_LAYERS)))
        self.apply(dcgan_init)

    def critic(self, k: int):
        """D1 (k = 0) or D2 (k = 1) as a function x (B, C, 32, 32) -> logits (B,)."""
        own = self.own1 if k == 0 else self.own2
        return lambda x: self.shared(own(x)).flatten()

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.critic(0)(x1), self.critic(1)(x2)

    def branch(self, k: int) -> nn.Sequential:
        """D1 or D2 alone as one Sequential of this module's own layer objects (its output is (B, 1))."""
        return nn.Sequential(*(self.own1 if k == 0 else self.own2), *self.shared)
