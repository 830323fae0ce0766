"""SRGAN's networks (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", section 2.2 and Figure 4; PyTorch-GAN implementations/srgan/models.py), narrowed for a 2-core
CPU and 28 px digits.

Generator (SRResNet), for an upscaling factor r = 2 or 4 and width w:
  head        conv 9x9 (C -> w), PReLU                                                  (B, w, h, h)
  B blocks    x + [conv 3x3, PReLU, conv 3x3](x)                                        (B, w, h, h)
  body end    conv 3x3 (w -> w), + head's output (the long skip of Figure 4)           (B, w, h, h)
  upsample    log2(r) x [conv 3x3 (w -> 4w), PixelShuffle(2), PReLU]: the sub-pixel convolution of Shi et al. 2016,
              each (B, 4w, s, s) -> (B, w, 2s, 2s)                                     (B, w, r h, r h)
  tail        conv 9x9 (w -> C), linear                                                 (B, C, r h, r h)
The paper has w = 64, B = 16 and BatchNorm after each conv of a block; ours drop the BatchNorm, as EDSR (Lim et al.
2017) and ESRGAN (Wang et al. 2018, section 3.1: "removing BN layers has proven to increase performance and reduce
computational complexity in different PSNR-oriented tasks") do: G then computes the same thing in train and eval
mode, and a batch of 16 gives no noisy statistics. PReLU with one learned slope per layer (nn.PReLU()).
The output is linear (EDSR's), not tanh (PyTorch-GAN's): digits are mostly black (-1), and with a tanh the MSE
drove every pixel into saturation at -1 within ~20 steps, where no gradient brings the strokes back (measured at
lr 1e-3 and 1e-4: the output stayed all black). Consumers clamp it to [-1, 1] (ganengine.metrics.superres.upscale,
the family's views and translate), as an image writer would; D sees the raw outputs.

Discriminator (Figure 4, two of its four stages), width w, on 28 px (any side divisible by 4):
  conv 3x3 (C -> w), LeakyReLU 0.2                                   28x28
  conv 3x3 stride 2 (w -> w), BN, LeakyReLU                          28 -> 14
  conv 3x3 (w -> 2w), BN, LeakyReLU                                  14x14
  conv 3x3 stride 2 (2w -> 2w), BN, LeakyReLU                        14 -> 7
  dense (2w * 7 * 7 -> 8w), LeakyReLU, dense (8w -> 1): one logit per image (the paper: dense 1024, then 1 + sigmoid;
  the sigmoid is inside our losses)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ganengine.config import ConfigError


class ResidualBlock(nn.Module):
    """x + conv(PReLU(conv(x))): SRGAN's residual block without BatchNorm (EDSR's)."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.PReLU(),
                                  nn.Conv2d(width, width, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)                                  # (B, w, h, h) -> (B, w, h, h)


class SRResNetGenerator(nn.Module):
    def __init__(self, *, channels: int = 1, factor: int = 4, width: int = 32, blocks: int = 4):
        super().__init__()
        if factor < 2 or factor & (factor - 1):
            raise ConfigError(f"the SRResNet upscales by a power of two (2, 4, 8); got {factor}")
        self.factor = factor
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.body_end = nn.Conv2d(width, width, 3, padding=1)
        ups = []
        for _ in range(int(math.log2(factor))):                 # each: side x2
            ups += [nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.upsample = nn.Sequential(*ups)
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) in [-1, 1] -> (B, C, r h, r w), near [-1, 1] (not clamped: see the module docstring)."""
        h = self.head(x)                                         # (B, w, h, h)
        h = h + self.body_end(self.blocks(h))                    # the long skip
        return self.tail(self.upsample(h))                       # (B, C, r h, r h)


class SRDiscriminator(nn.Module):
    def __init__(self, *, channels: int = 1, image_size: int = 28, width: int = 32):
        super().__init__()
        if image_size % 4:
            raise ConfigError(f"the SRGAN discriminator halves the image twice; {image_size} px is not a multiple of 4")

        def conv(c_in, c_out, stride, norm=True):
            layers = [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=not norm)]
            return layers + ([nn.BatchNorm2d(c_out)] if norm else []) + [nn.LeakyReLU(0.2, inplace=True)]
        side = image_size // 4
        self.features = nn.Sequential(*conv(channels, width, 1, norm=False), *conv(width, width, 2),   # s -> s/2
                                      *conv(width, 2 * width, 1), *conv(2 * width, 2 * width, 2))      # -> s/4
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * side * side, 8 * width),
                                  nn.LeakyReLU(0.2, inplace=True), nn.Linear(8 * width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).flatten()             # (B, C, s, s) -> (B,) logits
