"""What one training iteration costs, estimated before anything is built: FLOPs and activation memory.

The models are built on PyTorch's "meta" device (shapes only, no memory, no arithmetic) and one forward pass of G
and of D at the knobs' batch size runs there under a counter of torch.utils.flop_counter's FLOP formulas (``_Flops``), which counts the
FLOPs of every matmul and convolution from the shapes. One iteration (ganengine.run) is then, with backward costing
about twice its forward (gradients for the weights and for the inputs):
  each of the d_steps D updates: G forward + D forward on real and fake + their backward   = G + 6 D
    (+ 4 D for the R1 penalty's double backward, + 5 D for WGAN-GP's, on interpolates)
  the G update: D forward on the fakes + backward through D (inputs only) and G            = 3 D + 2 G
Activation memory is the sum of every op's output in those forwards (G once, D on real and fake): roughly what
autograd keeps for one D update. Checked against FlopCounterMode around a real ``train_iteration`` (forward and
backward counted by torch), the estimate is 5-17% high: DCGAN-28 preset 2.70 vs 2.43 GFLOP, with 3 D steps 5.81 vs
5.49, cGAN-28 2.74 vs 2.50, original GAN 1.19 vs 1.02, DCGAN 64x64 at width 32 39.6 vs 36.1.
An estimate takes 15-60 ms; the first one in a process also imports PyTorch's meta-device decompositions (~900
modules: 1-2 s on an idle 2-core machine, 5-8 s under load), so an app should call ``warm_up()`` at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.spec import DataSpec
from ganengine.families import build_nets, family_class
from ganengine.models import count_parameters

# The public cap on one iteration's estimated FLOPs, proposed for the shared 2-core Space (Trainer(max_step_flops=)).
# Estimated GFLOP per iteration at batch 64 (this module), and seconds per iteration measured with one torch thread
# on the 2-core machine while other jobs kept it at load average 8 (so ~1/4 of the CPU: 11-22 GFLOP/s):
#   original GAN (image MLP, width 128)            1.2 GFLOP    98 ms
#   DCGAN-28 preset (dcgan-mnist, width 32)        2.7 GFLOP   250 ms    (idle machine, both cores: 32 it/s,
#   cGAN-28 preset (cgan-mnist, width 32)          2.7 GFLOP   222 ms     78 GFLOP/s; bench/TUNING.md)
#   DCGAN 32x32 upload (width 32)                  7.1 GFLOP
#   DCGAN 64x64 (CelebA default, width 32)        39.6 GFLOP   2.1 s
#   DCGAN-28 at width 128                         40.4 GFLOP   2.3 s
#   DCGAN-28 at width 256 (the form's maximum)   159.7 GFLOP   7.4 s
#   DCGAN-28 at width 32, batch 4096 (the API's)  173 GFLOP
# Bigger convolutions run at a higher rate (22 GFLOP/s at width 256 against 11 at width 32 under the same load),
# so an idle core does ~40-65 GFLOP/s: 60 GFLOP is about 1-1.5 s per iteration with one core per visitor, 22 times
# the costliest bundled preset, and still admits CelebA at 64x64 and DCGAN-28 at width 128 with batch 64. It refuses
# width 256 at batch 64, width 128 at batch 128 and up, and any batch over ~1400 on the DCGAN-28 preset.
PUBLIC_MAX_STEP_FLOPS = 60e9

# One sample's shape per dataset when image_size is 0 (the dataset's own); folders may be greyscale or colour: colour
# is the costlier guess. Used before a run (and its data) is built.
_NATIVE = {"mnist": (1, 28), "mnist-full": (1, 28), "fashion-mnist": (1, 28), "cifar10": (3, 32), "celeba": (3, 64),
           "folder": (3, 64)}
_CLASSES = {"mnist": 10, "mnist-full": 10, "fashion-mnist": 10, "cifar10": 10}


COST_KNOBS = ("batch_size", "d_steps", "loss", "r1_weight", "gp_weight")  # the live settings a step's cost depends on


@dataclass(frozen=True)
class StepCost:
    flops: int               # one iteration: d_steps D updates and one G update, forward and backward
    activation_bytes: int    # outputs of every op in G's forward and D's forwards on real and fake
    g_params: int
    d_params: int

    def describe(self) -> str:
        return f"{self.flops / 1e9:.1f} GFLOP and about {self.activation_bytes / 2**20:.0f} MiB of activations per step"


def warm_up() -> None:
    """Make the first estimate fast: imports PyTorch's meta-device kernels (one-off, 1-2 s idle). Safe to call from a
    background thread at start-up."""
    from ganengine.presets import PRESETS
    step_cost(*PRESETS["dcgan-mnist"].build(device="cpu"))


def guess_spec(config: RunConfig) -> DataSpec:
    """The DataSpec a config's data will have, from the config alone (no data is read): for cost estimates."""
    return family_class(config.family).guess_spec(config)


def guess_image_spec(config: RunConfig) -> DataSpec:
    """guess_spec of the gan family's data (points and the image datasets)."""
    if config.is_points:
        return DataSpec(name=config.data, title=config.data, kind="points", shape=(2,))
    channels, native = _NATIVE[config.data]
    side = config.image_size or native
    classes = _CLASSES.get(config.data, 2 if config.model == "cgan" else 0)
    return DataSpec(name=config.data, title=config.data, kind="image", shape=(channels, side, side),
                    num_classes=classes)


class _OutputBytes(TorchDispatchMode):
    """Adds up the bytes of every tensor an op returns (on meta tensors: shapes only)."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.total += t.numel() * t.element_size()
        return out


class _Flops(TorchDispatchMode):
    """Adds up the FLOPs of every op torch's flop counter knows (torch.utils.flop_counter.flop_registry: matmuls,
    convolutions, attention), as FlopCounterMode counts them. Not FlopCounterMode itself: it enters a ModuleTracker,
    whose module hooks are process-wide (torch.nn.modules.module.register_module_forward_pre_hook) and reached every
    other thread's training while an estimate ran: another visitor's R1 step (autograd.grad) then failed with "A leaf
    node was passed to _will_engine_execute_node". A dispatch mode is the calling thread's only."""

    def __init__(self):
        super().__init__()
        from torch.utils.flop_counter import flop_registry  # imported on first use: it takes ~0.5 s
        self.registry, self.total = flop_registry, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        count = self.registry.get(func._overloadpacket)
        if count is not None:
            self.total += count(*args, **kwargs, out_val=out)
        return out


def step_cost(config: RunConfig, knobs: Knobs, spec: Optional[DataSpec] = None) -> StepCost:
    """Estimate one iteration's cost at knobs.batch_size on the meta device. ConfigError if the models would be
    over ganengine.models.MAX_MODEL_PARAMS or cannot be built."""
    family = family_class(config.family)
    spec = spec or family.guess_spec(config)
    b = knobs.batch_size
    with torch.device("meta"):
        nets = build_nets(family, config, spec)
        g_forward, d_forward = family.cost_forwards(nets, config, spec, b)  # the family's G and D calls
        with torch.no_grad():
            g_count, g_bytes = _Flops(), _OutputBytes()
            with g_count, g_bytes:
                fake = g_forward()
            d_count, d_bytes = _Flops(), _OutputBytes()
            with d_count, d_bytes:
                d_forward(fake)
    g, d = g_count.total, d_count.total
    per_d = g + 6 * d
    if knobs.r1_weight > 0:
        per_d += 4 * d
    if knobs.loss == "wgan-gp" and knobs.gp_weight > 0:
        per_d += 5 * d
    flops = knobs.d_steps * per_d + 3 * d + 2 * g
    return StepCost(flops=int(flops), activation_bytes=int(g_bytes.total + 2 * d_bytes.total),
                    g_params=sum(count_parameters(nets[n]) for n in family.groups["G"]),
                    d_params=sum(count_parameters(nets[n]) for n in family.groups["D"]))


def step_flops(config: RunConfig, knobs: Knobs, spec: Optional[DataSpec] = None) -> int:
    """Estimated FLOPs of one training iteration (see the module docstring)."""
    return step_cost(config, knobs, spec).flops


def check_step_cost(config: RunConfig, knobs: Knobs, spec: Optional[DataSpec], max_flops: float) -> StepCost:
    """Raise ConfigError (one sentence, naming the limit and what to lower) if one iteration would cost more than
    max_flops; 0 = no limit. Returns the estimate."""
    cost = step_cost(config, knobs, spec)
    if max_flops and cost.flops > max_flops:
        spec = spec or guess_spec(config)
        lower = ["the batch size"] + (["D steps"] if knobs.d_steps > 1 else []) + ["the width"] + \
            (["the image size"] if spec.image_size > 32 else [])
        what = lower[0] if len(lower) == 1 else ", ".join(lower[:-1]) + " or " + lower[-1]
        raise ConfigError(f"one training step would cost {cost.flops / 1e9:.0f} GFLOP; this server's limit is "
                          f"{max_flops / 1e9:.0f} GFLOP per step: lower {what}")
    return cost
