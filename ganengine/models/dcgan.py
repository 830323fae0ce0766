"""DCGAN (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep Convolutional GANs").

G: z (B, latent, 1, 1) -> transposed conv to a base x base map, then stride-2 transposed convs that double the side
and halve the channels, BatchNorm + ReLU between, tanh out. D mirrors it: stride-2 convs with LeakyReLU 0.2 and
BatchNorm (none on the first layer), then one conv over the base x base map to a single logit. Weights N(0, 0.02),
BatchNorm scale N(1, 0.02) (the paper's section 4; PyTorch DCGAN tutorial's weights_init).

One class serves every size (as torchgan's DCGAN): side = base * 2^k with base 7 (28 = 7*4, MNIST) or base 4
(8, 16, 32, 64, ...). ``width`` is the channel count next to the image (ngf = ndf in the tutorial, 64 there).
  28: 7x7 (2w) -> 14x14 (w) -> 28x28 (C)
  32: 4x4 (4w) -> 8x8 (2w) -> 16x16 (w) -> 32x32 (C)
  64: 4x4 (8w) -> 8x8 (4w) -> 16x16 (2w) -> 32x32 (w) -> 64x64 (C)   (exactly the tutorial's G at w = 64)
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.config import ConfigError


def plan_sizes(image_size: int) -> tuple[int, int]:
    """Return (base, upsamplings) so that image_size = base * 2**upsamplings; raise ConfigError otherwise."""
    for base in (7, 4):
        side, ups = image_size, 0
        while side > base and side % 2 == 0:
            side, ups = side // 2, ups + 1
        if side == base and ups >= 1:
            return base, ups
    raise ConfigError(f"DCGAN cannot make {image_size}x{image_size} images: the side must be 7 or 4 times a power "
                      f"of two (14, 28, 56 or 8, 16, 32, 64, 128); set the image size to one of those")


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN initialisation: conv and linear weights ~ N(0, 0.02); BatchNorm scale ~ N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    def __init__(self, *, latent_dim: int, image_shape: tuple, width: int = 64, input_dim: int = 0):
        """input_dim: size of the vector fed to the first layer (latent_dim, or more for a conditional G)."""
        super().__init__()
        channels, size = image_shape[0], image_shape[-1]
        base, ups = plan_sizes(size)
        ch = width * 2 ** (ups - 1)
        layers = [nn.ConvTranspose2d(input_dim or latent_dim, ch, base, 1, 0, bias=False),  # 1x1 -> base x base
                  nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(ups - 1):  # each: side x2, channels /2
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1, bias=False), nn.Tanh()]  # last doubling, to C channels
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        return self.net(z[:, :, None, None])  # (B, latent) -> (B, C, H, W)


class DCGANFeatures(nn.Module):
    """D's convolutional body: (B, C, H, W) -> (B, top_channels, base, base)."""

    def __init__(self, *, image_shape: tuple, width: int = 64):
        super().__init__()
        channels, size = image_shape[0], image_shape[-1]
        self.base, ups = plan_sizes(size)
        layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]  # side /2
        ch = width
        for _ in range(ups - 1):  # each: side /2, channels x2
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, inplace=True)]
            ch *= 2
        self.net = nn.Sequential(*layers)
        self.out_channels = ch

    def forward(self, x):
        return self.net(x)


class DCGANDiscriminator(nn.Module):
    def __init__(self, *, image_shape: tuple, width: int = 64):
        super().__init__()
        self.features = DCGANFeatures(image_shape=image_shape, width=width)
        self.head = nn.Conv2d(self.features.out_channels, 1, self.features.base, 1, 0, bias=False)  # base x base -> 1
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return self.head(self.features(x)).flatten()  # (B, C, H, W) -> (B,) logits
