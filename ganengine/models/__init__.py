"""Model families, one per file, sized from the data: mlp (points and images), dcgan, cgan.

Every generator is called G(z, y) and every discriminator D(x, y) -> logits of shape (B,); y (int64 labels) is
used by conditional models and ignored by the others.
"""
from __future__ import annotations

from torch import nn

from ganengine.config import ConfigError
from ganengine.data.spec import DataSpec
from ganengine.models.cgan import ConditionalDiscriminator, ConditionalGenerator
from ganengine.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganengine.models.mlp import ImageMLPDiscriminator, ImageMLPGenerator, PointDiscriminator, PointGenerator


def build_models(config, spec: DataSpec) -> tuple[nn.Module, nn.Module]:
    """(G, D) for a RunConfig and the DataSpec of its data, on the CPU; the caller moves them to the device."""
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
