"""Progressive GAN networks (Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs for Improved Quality,
Stability, and Variation"; reference code tkarras/progressive_growing_of_gans networks.py), small enough for a CPU.

Both nets are built at their final size (4 -> 8 -> 16 -> 32 px: LEVELS levels) from the start; the buffers
``level`` (0 = 4 px ... 3 = 32 px) and ``alpha`` (the fade-in weight of the newest level, 1 when stable) say how
much of them is in use. The training family sets them from the step (ganengine.families.progan.growth), so a net
is a pure function of its weights and buffers and checkpoints carry the stage. Blocks above the current level get
no gradient (Adam skips a parameter whose grad is None), so growing needs no new optimiser.

The paper's ingredients (section numbers of the paper):
- Fade-in (section 3, figure 2): while level k fades in, G's image is (1 - alpha) * up(toRGB_{k-1}(h_{k-1}))
  + alpha * toRGB_k(block_k(h_{k-1})) and D's features are (1 - alpha) * fromRGB_{k-1}(pool(x))
  + alpha * block_k(fromRGB_k(x)); alpha rises linearly from 0 to 1. up = nearest-neighbour x2, pool = 2x2 average.
- Minibatch standard deviation (section 3): D's last block sees one more feature map, the standard deviation of
  each feature over a group of 4 samples, averaged over features and pixels: a batch without variety is visible.
- Equalised learning rate (section 4.1): weights are drawn N(0, 1) and scaled at run time by He's constant
  c = gain / sqrt(fan_in), so Adam's per-weight step size is the same for every layer.
- Pixel-wise feature normalisation (section 4.2): after each conv of G, b = a / sqrt(mean_c(a^2) + 1e-8).
G's output is linear (no tanh), as the paper's; D ends in a linear score (WGAN-GP's critic).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEVELS = 4           # 4, 8, 16, 32 px
BASE = 4             # the first level's side
FINAL = BASE * 2 ** (LEVELS - 1)


def side(level: int) -> int:
    """Image side of a level: 4 * 2^level (0 -> 4 px, 3 -> 32 px)."""
    return BASE * 2 ** level


def level_widths(width: int) -> tuple:
    """Channels at 4, 8, 16, 32 px: width, width, width/2, width/4 (at least 4): the paper keeps 512 to 32 px and
    halves above; on a CPU the high levels, where the pixels are, must be the narrow ones."""
    return (width, width, max(width // 2, 4), max(width // 4, 4))


class EqualizedLinear(nn.Linear):
    """y = x (c W)^T + b with W ~ N(0, 1), c = gain / sqrt(in_features) (section 4.1). A subclass of nn.Linear, so
    SeFa (ganengine.latents) finds G's first layer; c is a constant, which leaves its directions unchanged."""

    def __init__(self, in_features: int, out_features: int, gain: float = math.sqrt(2)):
        super().__init__(in_features, out_features)
        self.scale = gain / math.sqrt(in_features)
        nn.init.normal_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualizedConv2d(nn.Conv2d):
    """A k x k convolution (same padding) with the equalised learning rate: W ~ N(0, 1), scaled by
    gain / sqrt(in_channels * k * k) at run time."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, gain: float = math.sqrt(2)):
        super().__init__(in_channels, out_channels, kernel, padding=kernel // 2)
        self.scale = gain / math.sqrt(in_channels * kernel * kernel)
        nn.init.normal_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """b_xy = a_xy / sqrt(mean over channels of a_xy^2 + eps) (section 4.2, eq. in the text); x (B, C, ...)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """(B, C, H, W) -> (B, C + 1, H, W): the extra map is, for each group of `group` samples, the standard deviation
    of every feature at every pixel over the group, averaged to one number (section 3; networks.py
    minibatch_stddev_layer). The group is the largest of 4, 3, 2, 1 that divides B."""
    b, c, h, w = x.shape
    g = next(n for n in (group, 3, 2, 1) if n <= b and b % n == 0)
    y = x.reshape(g, b // g, c, h, w)                                  # (G, M, C, H, W): sample i is in group i % M
    y = (y - y.mean(dim=0)).pow(2).mean(dim=0).add(1e-8).sqrt()        # (M, C, H, W) std over each group
    y = y.mean(dim=(1, 2, 3)).reshape(b // g, 1, 1, 1).repeat(g, 1, h, w)  # (B, 1, H, W)
    return torch.cat([x, y], dim=1)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class _Growing(nn.Module):
    """The stage buffers both nets carry: level (int64) and alpha (float32)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("level", torch.zeros((), dtype=torch.int64))
        self.register_buffer("alpha", torch.ones(()))

    def set_growth(self, level: int, alpha: float) -> None:
        if not 0 <= level < LEVELS or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"level must be in 0..{LEVELS - 1} and alpha in [0, 1]; got {level}, {alpha}")
        self.level.fill_(level)
        self.alpha.fill_(alpha)

    def growth(self) -> tuple[int, float]:
        return int(self.level), float(self.alpha)


class ProGenerator(_Growing):
    """z (B, latent) -> images. forward(z) gives the final size (B, C, 32, 32), the current level's image
    up-sampled nearest-neighbour (the reference code's G output) and clamped to [-1, 1]; at_level(z) gives the
    training image at the current side (B, C, r, r), unclamped."""

    def __init__(self, *, latent_dim: int, channels: int, width: int):
        super().__init__()
        w = level_widths(width)
        self.latent_dim = latent_dim
        self.dense = EqualizedLinear(latent_dim, w[0] * 16, gain=math.sqrt(2) / 4)  # z -> 4x4 (as networks.py G)
        self.conv0 = EqualizedConv2d(w[0], w[0], 3)
        self.blocks = nn.ModuleList(nn.ModuleList([EqualizedConv2d(w[k - 1], w[k], 3), EqualizedConv2d(w[k], w[k], 3)])
                                    for k in range(1, LEVELS))
        self.to_rgb = nn.ModuleList(EqualizedConv2d(w[k], channels, 1, gain=1.0) for k in range(LEVELS))

    def _trunk(self, z: torch.Tensor) -> torch.Tensor:
        x = self.dense(pixel_norm(z))                                  # normalised latent -> (B, w0 * 16)
        x = pixel_norm(lrelu(x.view(len(z), -1, BASE, BASE)))          # (B, w0, 4, 4)
        return pixel_norm(lrelu(self.conv0(x)))                        # (B, w0, 4, 4)

    def _block(self, k: int, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")           # r -> 2r
        for conv in self.blocks[k - 1]:
            x = pixel_norm(lrelu(conv(x)))
        return x                                                       # (B, w_k, 2r, 2r)

    def at_level(self, z: torch.Tensor, level=None, alpha=None) -> torch.Tensor:
        """The image at a level's side (default: the buffers' level and alpha): (B, C, r, r)."""
        level = int(self.level) if level is None else level
        alpha = float(self.alpha) if alpha is None else alpha
        x = self._trunk(z)
        for k in range(1, level):
            x = self._block(k, x)
        if level == 0:
            return self.to_rgb[0](x)                                   # (B, C, 4, 4)
        new = self.to_rgb[level](self._block(level, x))                # the new block's image (B, C, r, r)
        if alpha >= 1.0:
            return new
        old = F.interpolate(self.to_rgb[level - 1](x), scale_factor=2, mode="nearest")  # the previous level's, up
        return torch.lerp(old, new, alpha)                             # fade-in: (1 - alpha) old + alpha new

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        x = self.at_level(z)
        return F.interpolate(x, size=FINAL, mode="nearest").clamp(-1, 1)   # (B, C, 32, 32)


class ProCritic(_Growing):
    """Images -> scores (B,). forward(x) takes the current level's side (B, C, r, r); a larger image (the final
    32 px) is first average-pooled to it. score(x, level, alpha) is the same at an explicit stage."""

    def __init__(self, *, channels: int, width: int):
        super().__init__()
        w = level_widths(width)
        self.from_rgb = nn.ModuleList(EqualizedConv2d(channels, w[k], 1) for k in range(LEVELS))
        self.blocks = nn.ModuleList(nn.ModuleList([EqualizedConv2d(w[k], w[k], 3), EqualizedConv2d(w[k], w[k - 1], 3)])
                                    for k in range(1, LEVELS))
        self.conv_last = EqualizedConv2d(w[0] + 1, w[0], 3)           # after the minibatch-stddev map
        self.dense = EqualizedLinear(w[0] * 16, w[0])
        self.out = EqualizedLinear(w[0], 1, gain=1.0)

    def _block(self, k: int, x: torch.Tensor) -> torch.Tensor:
        for conv in self.blocks[k - 1]:
            x = lrelu(conv(x))
        return F.avg_pool2d(x, 2)                                      # (B, w_{k-1}, r/2, r/2)

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return self.score(x, int(self.level), float(self.alpha))

    def score(self, x: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
        """D's scores (B,) of x at a given level and alpha (forward reads them from the buffers)."""
        r = side(level)
        if x.shape[-1] != r:
            if x.shape[-1] < r or x.shape[-1] % r:
                raise ValueError(f"the critic is at {r} px; it cannot take {x.shape[-1]} px images")
            x = F.avg_pool2d(x, x.shape[-1] // r)                     # (B, C, r, r)
        h = lrelu(self.from_rgb[level](x))                             # (B, w_level, r, r)
        if level > 0:
            h = self._block(level, h)                                  # (B, w_{level-1}, r/2, r/2)
            if alpha < 1.0:                                            # fade-in: the old path on the pooled image
                old = lrelu(self.from_rgb[level - 1](F.avg_pool2d(x, 2)))
                h = torch.lerp(old, h, alpha)
            for k in range(level - 1, 0, -1):
                h = self._block(k, h)
        h = lrelu(self.conv_last(minibatch_stddev(h)))                 # (B, w0, 4, 4)
        h = lrelu(self.dense(h.flatten(1)))                            # (B, w0)
        return self.out(h).squeeze(1)                                  # (B,)
