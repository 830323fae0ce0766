"""PatchGAN discriminator of pix2pix (Isola et al. 2017, section 3.2.2; junyanz/pytorch-CycleGAN-and-pix2pix
models/networks.py, NLayerDiscriminator), conditioned on the input: D sees cat(input, image) on the channel axis
and says "real pair" or "fake pair" for every N x N patch, one logit per patch (the loss averages them).

  conv 4x4 s2 (C_in + C -> w) + LeakyReLU 0.2                                  no norm on the first layer
  n_layers - 1 times: conv 4x4 s2 (-> w * min(2^k, 8)) + BN + LeakyReLU 0.2
  conv 4x4 s1 (-> w * min(2^n_layers, 8)) + BN + LeakyReLU 0.2
  conv 4x4 s1 (-> 1): the patch logits
Each 4x4 conv with padding 1 maps side s to s/2 (stride 2) or s - 1 (stride 1). At 32 px:
  n_layers 1: 32 -> 16 -> 15 -> 14: 14x14 logits, each seeing a 16x16 patch
  n_layers 2: 32 -> 16 -> 8 -> 7 -> 6: 6x6 logits, 34x34 patches (the whole digit, plus the border)
  n_layers 3: 32 -> 16 -> 8 -> 4 -> 3 -> 2: 2x2 logits, 70x70 (junyanz's default, sized for 256 px images)
Convs before BatchNorm have no bias; weights N(0, 0.02), BatchNorm scale N(1, 0.02) (junyanz init 'normal').

PatchCritic is the same stack on the image alone, for CycleGAN (Zhu et al. 2017, section 4: "70x70 PatchGANs"),
with junyanz's CycleGAN default norm, InstanceNorm without affine parameters (so the convs before it keep a bias):
D(x) -> (B, 1, h, w) patch logits, the sizes above.
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.models.dcgan import dcgan_init


def receptive_field(n_layers: int) -> int:
    """Side of the input patch one logit sees: back through the 4x4 convs, r <- stride * r + (4 - stride)."""
    r = 1
    for stride in [1, 1] + [2] * n_layers:  # the last layer first
        r = stride * r + (4 - stride)
    return r


def patch_layers(in_channels: int, width: int, n_layers: int, norm: str) -> list:
    """The PatchGAN stack (module docstring) on in_channels; norm "batch" (pix2pix) or "instance" (CycleGAN)."""
    layers = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]  # side / 2
    ch = width
    for k in range(1, n_layers + 1):  # k < n_layers: side / 2; k = n_layers: side - 1
        nxt = width * min(2 ** k, 8)
        stride = 2 if k < n_layers else 1
        if norm == "batch":
            layers += [nn.Conv2d(ch, nxt, 4, stride, 1, bias=False), nn.BatchNorm2d(nxt)]
        else:
            layers += [nn.Conv2d(ch, nxt, 4, stride, 1), nn.InstanceNorm2d(nxt)]
        layers.append(nn.LeakyReLU(0.2, True))
        ch = nxt
    layers.append(nn.Conv2d(ch, 1, 4, 1, 1))  # side - 1: one logit per patch
    return layers


class PatchDiscriminator(nn.Module):
    def __init__(self, *, in_channels: int = 1, out_channels: int = 1, width: int = 32, n_layers: int = 2):
        """in_channels: the translation's input (the condition); out_channels: the image judged."""
        super().__init__()
        self.net = nn.Sequential(*patch_layers(in_channels + out_channels, width, n_layers, "batch"))
        self.apply(dcgan_init)

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W), (B, C, H, W) -> patch logits (B, 1, h, w)."""
        return self.net(torch.cat([condition, image], dim=1))


class PatchCritic(nn.Module):
    """The unconditional PatchGAN with InstanceNorm (CycleGAN's D): image -> patch logits."""

    def __init__(self, *, channels: int = 1, width: int = 16, n_layers: int = 2):
        super().__init__()
        self.net = nn.Sequential(*patch_layers(channels, width, n_layers, "instance"))
        self.apply(dcgan_init)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> patch logits (B, 1, h, w)."""
        return self.net(image)
