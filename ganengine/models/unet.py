"""U-Net generator of pix2pix (Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", section 3.2.1 and appendix 6.1.1; junyanz/pytorch-CycleGAN-and-pix2pix models/networks.py,
UnetGenerator / UnetSkipConnectionBlock), written as a plain encoder/decoder loop instead of nested blocks.

An encoder of stride-2 4x4 convs halves the side down to 1x1; a decoder of stride-2 4x4 transposed convs doubles
it back; each decoder layer also sees the encoder's map of the same side (skip connection: channels concatenated).
  encoder  e_1 = conv(x); a_i = LeakyReLU_0.2(e_i); e_{i+1} = BN(conv(a_i)); the innermost e_n (1x1) has no BN
  decoder  d_n = BN(convT(ReLU(e_n))); d_i = BN(convT(ReLU(cat(d_{i+1}, a_i)))); out = tanh(convT(ReLU(cat(d_2, a_1))))
The skips carry the activated a_i, not e_i: that is what junyanz's code computes (its in-place LeakyReLU rewrites
the tensor that UnetSkipConnectionBlock then concatenates), so it is written out here.
Channels: width * min(2^i, 8) at encoder depth i (junyanz's ngf * 8 cap). At 32 px with width w:
  32x32 (C) -> 16 (w) -> 8 (2w) -> 4 (4w) -> 2 (8w) -> 1 (8w)                       encoder
  1 (8w) -> 2 (8w, +8w skip) -> 4 (4w, +4w) -> 8 (2w, +2w) -> 16 (w, +w) -> 32 (C_out)   decoder
Convs followed by BatchNorm carry no bias (junyanz: use_bias only with InstanceNorm); the last transposed conv does.
Weights N(0, 0.02), BatchNorm scale N(1, 0.02) (junyanz init_weights 'normal', the paper's appendix).

Dropout: the paper applies 50% dropout in the first three decoder layers (CD512 x3), at train and test time, as G's
only noise, and notes G learns to mostly ignore it. junyanz puts it only in the 8w blocks between the innermost and
the 8x8 level (num_downs - 5 of them), so at 32 px (5 downs) its code has none. Default here 0 (none, as junyanz at
this size): outputs are then a deterministic function of the input, which a live drawing canvas wants;
``dropout > 0`` puts it after the first min(3, downs - 2) decoder layers, as the paper's text.
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.config import ConfigError
from ganengine.models.dcgan import dcgan_init


def unet_depth(image_size: int) -> int:
    """Number of halvings from image_size to 1x1; ConfigError unless image_size is a power of two >= 8."""
    downs = image_size.bit_length() - 1
    if image_size < 8 or image_size != 1 << downs:
        raise ConfigError(f"the U-Net needs a power-of-two image side of at least 8 (8, 16, 32, 64, ...), "
                          f"got {image_size}; pad the images (28 -> 32)")
    return downs


class UNetGenerator(nn.Module):
    def __init__(self, *, in_channels: int = 1, out_channels: int = 1, image_size: int = 32, width: int = 32,
                 dropout: float = 0.0):
        super().__init__()
        downs = unet_depth(image_size)
        chans = [width * min(2 ** i, 8) for i in range(downs)]  # encoder outputs: 32 px, w=32 -> 32, 64, 128, 256, 256
        self.down = nn.ModuleList()
        for i, ch in enumerate(chans):  # each: side / 2; no norm on the outermost and the innermost
            conv = nn.Conv2d(in_channels if i == 0 else chans[i - 1], ch, 4, 2, 1, bias=False)
            self.down.append(conv if i in (0, downs - 1) else nn.Sequential(conv, nn.BatchNorm2d(ch)))
        self.act = nn.LeakyReLU(0.2)
        self.up = nn.ModuleList()
        n_dropout = min(3, downs - 2) if dropout > 0 else 0
        for j, i in enumerate(range(downs - 1, 0, -1)):  # decoder d_{i+1} -> side x2, to chans[i - 1] channels
            cin = chans[i] if i == downs - 1 else 2 * chans[i]  # the innermost takes e_n alone, the rest cat(d, a)
            layers = [nn.ReLU(True), nn.ConvTranspose2d(cin, chans[i - 1], 4, 2, 1, bias=False), nn.BatchNorm2d(chans[i - 1])]
            if j < n_dropout:
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        self.out = nn.Sequential(nn.ReLU(True), nn.ConvTranspose2d(2 * chans[0], out_channels, 4, 2, 1), nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down[:-1]:   # (B, C, 32, 32) -> (B, w, 16, 16) -> ... -> (B, 8w, 2, 2)
            x = self.act(block(x))     # a_i
            skips.append(x)
        x = self.down[-1](x)           # the bottleneck e_n, (B, 8w, 1, 1)
        for block in self.up:          # (B, 8w, 2, 2) -> (B, 4w, 4, 4) -> ... -> (B, w, 16, 16)
            x = torch.cat([block(x), skips.pop()], dim=1)  # (B, 2 * ch, side, side)
        return self.out(x)             # (B, C_out, 32, 32) in [-1, 1]
