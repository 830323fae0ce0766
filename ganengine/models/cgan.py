"""Conditional GAN: draw a chosen class (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets").

G(z, y): the label's learned embedding is concatenated to z and fed to a DCGAN generator.
D(x, y): a DCGAN body gives features phi(x) (B, F); the logit is the projection discriminator of Miyato & Koyama
2018 ("cGANs with Projection Discriminator"): logit = w . phi(x) + embed(y) . phi(x). It conditions D on the label
without concatenating label maps to the image, and trains faster and more stably than concatenation.
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.config import ConfigError
from ganengine.models.dcgan import DCGANFeatures, DCGANGenerator, dcgan_init


class ConditionalGenerator(nn.Module):
    def __init__(self, *, latent_dim: int, image_shape: tuple, num_classes: int, width: int = 64, embed_dim: int = 32):
        super().__init__()
        if num_classes < 2:
            raise ConfigError("cgan needs a labelled dataset (mnist, fashion-mnist, cifar10, or a folder of class subfolders)")
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.body = DCGANGenerator(latent_dim=latent_dim, image_shape=image_shape, width=width,
                                   input_dim=latent_dim + embed_dim)
        dcgan_init(self.embed)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, self.embed(y)], dim=1))  # (B, latent + embed) -> (B, C, H, W)


class ConditionalDiscriminator(nn.Module):
    def __init__(self, *, image_shape: tuple, num_classes: int, width: int = 64):
        super().__init__()
        self.features = DCGANFeatures(image_shape=image_shape, width=width)
        feat = self.features.out_channels * self.features.base ** 2
        self.linear = nn.Linear(feat, 1)
        self.embed = nn.Embedding(num_classes, feat)
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.features(x).flatten(1)                             # (B, F)
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(1)  # (B,) logits
