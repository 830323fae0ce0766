"""Evaluate a generator with the metrics its data allows, and the `eval` CLI command behind it.

- Mixtures with known centres (ring8, grid25): ganengine.metrics.mixtures (PacGAN / VEEGAN protocol).
- Other 2-D data (spiral, moons, user or drawn points): ganengine.metrics.points2d (energy distance with its
  real-vs-real floor, precision, coverage, 2-D Frechet distance).
- MNIST digits (mnist, mnist-full): ganengine.metrics.digits with the shipped classifier.
- Other image data: no reference metric yet; only what is data-independent (none), said plainly.
"""
from __future__ import annotations

import torch

from ganengine.latents import sample_latents
from ganengine.metrics.mixtures import mixture_metrics
from ganengine.metrics.points2d import N_QUALITY, points_metrics

DIGIT_DATA = ("mnist", "mnist-full")
EVAL_SEED = 20240601  # fixed noise for evaluation, so values over a run are comparable


@torch.no_grad()
def generate_samples(G, config, spec, n: int, seed: int = EVAL_SEED, batch: int = 500) -> torch.Tensor:
    """n samples (on the CPU) from a generator in eval mode; classes cycle 0..K-1 for a conditional G."""
    from ganengine.models import is_conditional
    device = next(G.parameters()).device
    z = sample_latents(n, config.latent_dim, seed)
    conditional = is_conditional(G)
    out = []
    was_training = G.training
    G.eval()
    try:
        for i, zc in enumerate(z.split(batch)):
            y = (torch.arange(i * batch, i * batch + len(zc)) % spec.num_classes).to(device) if conditional else None
            out.append(G(zc.to(device), y).float().cpu())
    finally:
        G.train(was_training)
    return torch.cat(out)


def evaluate_generator(G, config, spec, *, n: int = 2500, seed: int = EVAL_SEED, with_prdc: bool = False,
                       real_sampler=None) -> dict:
    """Metrics as a flat JSON-able dict, with "kind" naming which family applies."""
    x = generate_samples(G, config, spec, n, seed)
    if spec.is_points:
        if spec.centres is not None and spec.sigma is not None:
            return {"kind": "mixture", "data": spec.name, "n": n, **mixture_metrics(x.numpy(), spec.centres, spec.sigma)}
        if real_sampler is None:
            return {"kind": "none", "data": spec.name, "n": n, "note": "no reference sample for this 2-D data"}
        m = min(n, N_QUALITY)
        real = real_sampler(2 * m)  # (2m, 2): the reference sample, then an independent one for the floor
        return {"kind": "points", "data": spec.name, "n": m, **points_metrics(x.numpy()[:m], real[:m], real[m:2 * m])}
    if spec.name in DIGIT_DATA:
        from ganengine.metrics.digits import digit_metrics
        return {"kind": "digits", "data": spec.name, **digit_metrics(x, with_prdc=with_prdc)}
    return {"kind": "none", "data": spec.name, "n": n,
            "note": "no quality metric for this dataset yet (the digit classifier is for MNIST digits)"}


def evaluate_loaded(ckpt: dict, *, n: int = 2500, seed: int = EVAL_SEED) -> dict:
    """The gan family's `eval` of a validated checkpoint."""
    from ganengine.checkpoint import generator_from_checkpoint
    from ganengine.config import ConfigError
    if not 100 <= n <= 100_000:
        raise ConfigError("--n must be between 100 and 100000")
    G, config, spec = generator_from_checkpoint(ckpt)
    real_sampler = None
    if spec.is_points and spec.centres is None and config.data in ("spiral", "moons"):
        from ganengine.data import build_source
        src = build_source(config, torch.device("cpu"))
        real_sampler = lambda m: src.real_sample(m, seed=seed)[0].numpy()  # noqa: E731
    elif spec.is_points and ckpt.get("points") is not None:   # the visitor's own points, carried by the checkpoint
        from ganengine.data.points import ArrayPointSource
        src = ArrayPointSource(points=ckpt["points"].numpy(), title=spec.title, seed=seed, device=torch.device("cpu"))
        real_sampler = lambda m: src.real_sample(m, seed=seed)[0].numpy()  # noqa: E731
    result = evaluate_generator(G, config, spec, n=n, seed=seed, with_prdc=spec.name in DIGIT_DATA,
                                real_sampler=real_sampler)
    return {"step": int(ckpt["step"]), "train_seconds": float(ckpt.get("train_seconds", 0)),
            "model": config.model, "loss": ckpt["_knobs"].loss, **result}
