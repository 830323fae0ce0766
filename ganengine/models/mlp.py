"""MLP generators and discriminators.

Image MLPs: the seeds' GAN (Goodfellow et al. 2014, "Generative Adversarial Nets"), sized as PyTorch-GAN's
implementations/gan/gan.py: G = z -> 128 -> 256 -> 512 -> 1024 -> C*H*W (BatchNorm from 256 on, LeakyReLU 0.2,
tanh out), D = C*H*W -> 512 -> 256 -> 1. gan.py writes ``nn.BatchNorm1d(out_feat, 0.8)``, which sets eps = 0.8
rather than the momentum it meant; here BatchNorm keeps its defaults. ``width`` scales every layer (128 = gan.py).

Point MLPs: the small pair for 2-D data that GAN Lab and the mode-collapse papers use: fully connected,
``width`` units per hidden layer, ReLU in G, LeakyReLU in D. Every D returns logits, shape (B,).
"""
from __future__ import annotations

import math

import torch
from torch import nn


class ImageMLPGenerator(nn.Module):
    def __init__(self, *, latent_dim: int, image_shape: tuple, width: int = 128):
        super().__init__()
        self.image_shape = tuple(image_shape)

        def block(n_in, n_out, norm=True):
            layers = [nn.Linear(n_in, n_out)]
            if norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.net = nn.Sequential(
            *block(latent_dim, width, norm=False),
            *block(width, 2 * width),
            *block(2 * width, 4 * width),
            *block(4 * width, 8 * width),
            nn.Linear(8 * width, math.prod(image_shape)),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        return self.net(z).view(len(z), *self.image_shape)  # (B, latent) -> (B, C, H, W)


class ImageMLPDiscriminator(nn.Module):
    def __init__(self, *, image_shape: tuple, width: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(math.prod(image_shape), 4 * width), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * width, 2 * width), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(2 * width, 1),
        )

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)  # (B, C, H, W) -> (B,) logits


class PointGenerator(nn.Module):
    def __init__(self, *, latent_dim: int, width: int = 128, hidden_layers: int = 3):
        super().__init__()
        layers, n_in = [], latent_dim
        for _ in range(hidden_layers):
            layers += [nn.Linear(n_in, width), nn.ReLU(inplace=True)]
            n_in = width
        layers.append(nn.Linear(n_in, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        return self.net(z)  # (B, latent) -> (B, 2)


class PointDiscriminator(nn.Module):
    def __init__(self, *, width: int = 128, hidden_layers: int = 3):
        super().__init__()
        layers, n_in = [], 2
        for _ in range(hidden_layers):
            layers += [nn.Linear(n_in, width), nn.LeakyReLU(0.2, inplace=True)]
            n_in = width
        layers.append(nn.Linear(n_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B, 2) -> (B,) logits
