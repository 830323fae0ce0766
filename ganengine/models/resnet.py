"""ResNet generator of CycleGAN (Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", section 4 and appendix 7.2, after Johnson et al. 2016; junyanz/pytorch-
CycleGAN-and-pix2pix models/networks.py, ResnetGenerator / ResnetBlock), narrowed for a 2-core CPU.

  c7s1-w      reflection pad 3, conv 7x7 (C_in -> w), InstanceNorm, ReLU                 side s
  d2w, d4w    conv 3x3 stride 2 (-> 2w, -> 4w), InstanceNorm, ReLU                        s -> s/2 -> s/4
  R4w x n     residual blocks: x + [pad 1, conv 3x3, IN, ReLU, pad 1, conv 3x3, IN](x)    s/4
  u2w, uw     transposed conv 3x3 stride 2 (output_padding 1; -> 2w, -> w), IN, ReLU      s/4 -> s/2 -> s
  c7s1-C      reflection pad 3, conv 7x7 (w -> C_out), tanh                               side s, in [-1, 1]
The paper's nets have w = 64 and n = 6 (128 px) or 9 (256 px); here w and n are small (RunConfig.width and
RunConfig.depth: bench/cyclegan_probe.py measured the sizes). At 32 px with width w:
  (B, C, 32, 32) -> (B, w, 32, 32) -> (B, 2w, 16, 16) -> (B, 4w, 8, 8) -> n blocks -> (B, 2w, 16, 16)
  -> (B, w, 32, 32) -> (B, C, 32, 32)
InstanceNorm2d without affine parameters or running statistics (junyanz norm 'instance'), so the convs before it
keep their bias (junyanz use_bias = norm is InstanceNorm) and eval mode computes exactly what training mode does.
No dropout (junyanz's CycleGAN default, --no_dropout). Weights N(0, 0.02), biases 0 (junyanz init 'normal').
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.models.dcgan import dcgan_init


def instance_norm(channels: int) -> nn.Module:
    """junyanz's 'instance' norm: per image and channel, (x - mean) / sqrt(var + 1e-5); no learned scale or shift."""
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """x + F(x), F = pad, conv 3x3, IN, ReLU, pad, conv 3x3, IN (He et al. 2016 as Johnson et al. 2016 use it)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), instance_norm(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), instance_norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)                          # (B, c, h, w) -> (B, c, h, w)


class ResnetGenerator(nn.Module):
    def __init__(self, *, in_channels: int = 1, out_channels: int = 1, width: int = 16, blocks: int = 3):
        super().__init__()
        w = width
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, w, 7), instance_norm(w), nn.ReLU(True)]  # side s
        for mult in (1, 2):                                                                  # s -> s/2 -> s/4
            layers += [nn.Conv2d(w * mult, w * mult * 2, 3, 2, 1), instance_norm(w * mult * 2), nn.ReLU(True)]
        layers += [ResnetBlock(4 * w) for _ in range(blocks)]                               # s/4, 4w channels
        for mult in (4, 2):                                                                  # s/4 -> s/2 -> s
            layers += [nn.ConvTranspose2d(w * mult, w * mult // 2, 3, 2, 1, output_padding=1),
                       instance_norm(w * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh()]          # side s, in [-1, 1]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) in [-1, 1], H and W multiples of 4 -> (B, C_out, H, W) in [-1, 1]."""
        return self.net(x)
