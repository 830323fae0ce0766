"""Model families, one per file, sized from the data: mlp (points and images), dcgan, cgan.

Every generator is called G(z, y) and every discriminator D(x, y) -> logits of shape (B,); y (int64 labels) is
used by conditional models and ignored by the others.
"""
from __future__ import annotations

import torch
from torch import nn

from ganengine.config import ConfigError
from ganengine.data.spec import DataSpec
from ganengine.models.cgan import ConditionalDiscriminator, ConditionalGenerator
from ganengine.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganengine.models.mlp import ImageMLPDiscriminator, ImageMLPGenerator, PointDiscriminator, PointGenerator


# Largest network this engine builds: 50M parameters (200 MB of float32, plus as much again per Adam moment) per net.
# Every bundled preset is far below it (the largest, the original GAN's G on MNIST, has 1.5M; DCGAN-28 at width 32,
# 0.3M); DCGAN 64x64 at width 256 is 46M (G) and passes; what it refuses are sizes that a form or a checkpoint can
# ask for but no CPU can train: DCGAN 256x256 at width 256 (724M) or the image MLP on 256x256 RGB (202M).
MAX_MODEL_PARAMS = 50_000_000


def build_models(config, spec: DataSpec) -> tuple[nn.Module, nn.Module]:
    """(G, D) for a RunConfig and the DataSpec of its data, on the CPU (or on the meta device inside
    ``with torch.device("meta")``); the caller moves them to the device. Both are first built on the meta device,
    which allocates nothing, and refused with ConfigError if either has more than MAX_MODEL_PARAMS parameters."""
    with torch.device("meta"):
        G, D = _build(config, spec)
    for name, model in (("generator", G), ("discriminator", D)):
        n = count_parameters(model)
        if n > MAX_MODEL_PARAMS:
            raise ConfigError(f"this setup's {name} would have {n:,} parameters; the limit is {MAX_MODEL_PARAMS:,} "
                              f"per network: lower the width{' or the image size' if not spec.is_points else ''}")
    if torch.get_default_device().type == "meta":
        return G, D
    return _build(config, spec)


def _build(config, spec: DataSpec) -> tuple[nn.Module, nn.Module]:
    kw = dict(width=config.width)
    if spec.is_points:
        if config.model != "mlp":
            raise ConfigError(f"2-D data trains with the mlp model, not {config.model}")
        return (PointGenerator(latent_dim=config.latent_dim, hidden_layers=config.depth, **kw),
                PointDiscriminator(hidden_layers=config.depth, **kw))
    shape = spec.shape
    if config.model == "mlp":
        return ImageMLPGenerator(latent_dim=config.latent_dim, image_shape=shape, **kw), \
            ImageMLPDiscriminator(image_shape=shape, **kw)
    if config.model == "dcgan":
        return DCGANGenerator(latent_dim=config.latent_dim, image_shape=shape, **kw), \
            DCGANDiscriminator(image_shape=shape, **kw)
    return (ConditionalGenerator(latent_dim=config.latent_dim, image_shape=shape, num_classes=spec.num_classes, **kw),
            ConditionalDiscriminator(image_shape=shape, num_classes=spec.num_classes, **kw))


def is_conditional(model: nn.Module) -> bool:
    return isinstance(model, (ConditionalGenerator, ConditionalDiscriminator))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
