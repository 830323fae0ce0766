"""One generator for many styles, and a discriminator that also names the style: StarGAN (Choi, Choi, Kim, Ha, Kim &
Choo 2018, "StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation";
yunjey/stargan model.py), with the style code entering G through conditional instance normalisation (Dumoulin,
Shlens & Kudlur 2017, "A Learned Representation for Artistic Style").

StyleGenerator G(x, c): x (B, 1, H, W) in [-1, 1], c (B, K) a style code (one-hot, or a convex mix of one-hots).
The layout is CycleGAN's ResNet G (ganengine/models/resnet.py: c7s1-w, d2w, d4w, R4w x n, u2w, uw, c7s1-1) with
every InstanceNorm replaced by a conditional one:
  CIN(h, c) = gamma(c) * (h - mean(h)) / sqrt(var(h) + 1e-5) + beta(c),  gamma(c) = 1 + c W_g,  beta(c) = c W_b
per image and channel; W_g, W_b are (K, C) tables, so a one-hot c picks style k's (gamma_k, beta_k) and a mix
a c_i + (1 - a) c_j interpolates them linearly: Dumoulin et al.'s style interpolation (section 4.1, "convex
combination of the gamma and beta").
Why not StarGAN's own input (c broadcast to K constant channels, concatenated to x): behind a reflection pad a
constant channel stays constant, the first conv adds a constant per output channel, and the instance norm that
follows subtracts it again, so G(x, c) would not depend on c at all (tests/test_styles_family.py checks this of
the plain ResnetGenerator). StarGAN's zero padding lets the code in only through the image border.
At 32 px, width w: (B, 1, 32, 32) -> (B, w, 32, 32) -> (B, 2w, 16, 16) -> (B, 4w, 8, 8) -> n blocks
-> (B, 2w, 16, 16) -> (B, w, 32, 32) -> (B, 1, 32, 32).

StyleCritic D(x) -> (adv, cls): StarGAN's Discriminator, no normalisation, LeakyReLU 0.01:
  n_layers x conv 4x4 s2 p1 (1 -> w -> 2w -> 4w ...)           32 -> 16 -> 8 -> 4 (3 layers)
  adv head: conv 3x3 s1 p1 -> 1                              (B, 1, 4, 4) patch logits ("real or fake")
  cls head: conv (side / 2^n_layers) x same, no padding -> K   (B, K) style logits ("which style")
No norm in D on purpose: an instance norm would divide out exactly the per-channel statistics (ink, texture energy)
that tell the styles apart. Weights N(0, 0.02), biases 0 (ganengine.models.dcgan.dcgan_init).
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.models.dcgan import dcgan_init


class CondInstanceNorm(nn.Module):
    """Instance norm whose scale and shift are looked up from the style code (module docstring)."""

    def __init__(self, channels: int, n_styles: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
        self.gamma = nn.Linear(n_styles, channels, bias=False)   # gamma(c) - 1 = c W_g
        self.beta = nn.Linear(n_styles, channels, bias=False)    # beta(c) = c W_b

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        g, b = 1 + self.gamma(c), self.beta(c)                     # (B, C) each
        return self.norm(h) * g[:, :, None, None] + b[:, :, None, None]   # (B, C, H, W)


class CondBlock(nn.Module):
    """conv -> CIN -> ReLU (or a residual block x + [pad conv CIN ReLU pad conv CIN](x) with residual=True)."""

    def __init__(self, conv: nn.Module, out_ch: int, n_styles: int, *, residual: bool = False):
        super().__init__()
        self.residual = residual
        self.conv, self.cin = conv, CondInstanceNorm(out_ch, n_styles)
        if residual:
            self.conv2 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(out_ch, out_ch, 3))
            self.cin2 = CondInstanceNorm(out_ch, n_styles)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.cin(self.conv(h), c))
        if self.residual:
            return h + self.cin2(self.conv2(y), c)                 # (B, C, h, w)
        return y


class StyleGenerator(nn.Module):
    def __init__(self, *, channels: int = 1, n_styles: int = 5, width: int = 8, blocks: int = 2):
        super().__init__()
        w, K = width, n_styles
        self.n_styles = K
        layers = [CondBlock(nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(channels, w, 7)), w, K)]      # side s
        layers += [CondBlock(nn.Conv2d(w, 2 * w, 3, 2, 1), 2 * w, K),                                 # s/2
                   CondBlock(nn.Conv2d(2 * w, 4 * w, 3, 2, 1), 4 * w, K)]                             # s/4
        layers += [CondBlock(nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(4 * w, 4 * w, 3)), 4 * w, K,
                             residual=True) for _ in range(blocks)]                                   # s/4
        layers += [CondBlock(nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1), 2 * w, K),  # s/2
                   CondBlock(nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1), w, K)]          # s
        self.body = nn.ModuleList(layers)
        self.out = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh())        # s, [-1, 1]
        self.apply(dcgan_init)                     # the CIN tables too: gamma ~ 1 + N(0, 0.02), beta ~ N(0, 0.02)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) in [-1, 1] (H, W multiples of 4), c (B, K) style code -> (B, C, H, W) in [-1, 1]."""
        h = x
        for layer in self.body:
            h = layer(h, c)
        return self.out(h)


class StyleCritic(nn.Module):
    def __init__(self, *, channels: int = 1, n_styles: int = 5, width: int = 16, n_layers: int = 3,
                 image_size: int = 32):
        super().__init__()
        layers, ch = [], channels
        for k in range(n_layers):                                      # side / 2 each
            nxt = width * 2 ** k
            layers += [nn.Conv2d(ch, nxt, 4, 2, 1), nn.LeakyReLU(0.01)]
            ch = nxt
        self.trunk = nn.Sequential(*layers)
        side = image_size // 2 ** n_layers
        self.adv = nn.Conv2d(ch, 1, 3, 1, 1)                             # (B, 1, side, side) patch logits
        self.cls = nn.Conv2d(ch, n_styles, side)                         # (B, K, 1, 1) style logits
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor):
        """(B, C, H, W) -> (adversarial patch logits (B, 1, h, w), style logits (B, K))."""
        h = self.trunk(x)
        return self.adv(h), self.cls(h).flatten(1)
