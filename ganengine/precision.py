"""The GPU path's settings: mixed precision, channels_last and a compiled forward, applied to a GANRun by one hook.

Settings (environment variables, read when a run is built; the CLI's --precision / --channels-last / --compile set
them; they belong to the machine, not to the run, so checkpoints do not carry them):

| variable | values | default |
|---|---|---|
| GAN_PRECISION | auto, fp32, bf16, fp16 | auto: bf16 on a CUDA GPU that supports it, else fp16 on CUDA; fp32 elsewhere |
| GAN_CHANNELS_LAST | auto, 0, 1 | auto: on for conv nets on CUDA, off on the CPU |
| GAN_COMPILE | 0, 1 | 0: each net's forward through torch.compile when 1 |

Mixed precision (Micikevicius et al. 2018, "Mixed Precision Training", section 3): the forward passes and losses run
under torch.autocast (matmuls and convolutions in bf16 / fp16, reductions and losses in fp32); the weights, the
gradients and Adam's moments stay fp32 ("master weights"), so the optimiser step and EMA are unchanged. fp16's 5-bit
exponent underflows small gradients, hence loss scaling (section 3.2): the loss is multiplied by S before backward,
gradients divided by S before the step, and a step whose gradients overflowed is skipped while S halves
(torch.amp.GradScaler's dynamic scale). bf16 has fp32's 8-bit exponent and needs no scaling (Kalamkar et al. 2019).
On the CPU, bf16 autocast works too (GAN_PRECISION=bf16), for tests and for CPUs with bf16 units.

channels_last stores a conv net's 4-D weights (and so its activations) as N, H, W, C, the layout cuDNN's tensor-core
convolutions use without transposes (PyTorch's "Channels Last Memory Format" tutorial).

Only the update's forward passes run under autocast: ``run.update`` (backward, the step, EMA) runs with autocast off,
as the autocast documentation advises for backward passes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import torch

from ganengine.config import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    dtype: Optional[torch.dtype]   # autocast dtype, None = fp32 throughout
    channels_last: bool
    compile: bool
    device_type: str

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def describe(self) -> str:
        return (f"precision {self.name}{' with loss scaling' if self.dtype == torch.float16 else ''}, "
                f"channels_last {'on' if self.channels_last else 'off'}, compile {'on' if self.compile else 'off'}")


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "auto").strip().lower() or "auto"
    if raw == "auto":
        return default
    if raw in ("0", "1"):
        return raw == "1"
    raise ConfigError(f"{name} must be auto, 0 or 1; got {raw!r}")


def settings_for(device: torch.device) -> Precision:
    """The Precision the environment asks for on this device (ConfigError for a value that does not fit)."""
    raw = os.environ.get("GAN_PRECISION", "auto").strip().lower() or "auto"
    if raw not in PRECISIONS:
        raise ConfigError(f"GAN_PRECISION must be one of {', '.join(PRECISIONS)}; got {raw!r}")
    cuda = device.type == "cuda"
    if raw == "auto":
        raw = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if raw == "fp16" and not cuda:
        raise ConfigError("GAN_PRECISION=fp16 needs a CUDA GPU (its loss scaler is CUDA's); use bf16 on the CPU")
    if device.type not in ("cuda", "cpu") and raw != "fp32":
        raise ConfigError(f"mixed precision is set up for cuda and cpu here, not {device.type}; use fp32")
    return Precision(dtype=DTYPES.get(raw), channels_last=_flag("GAN_CHANNELS_LAST", cuda),
                     compile=_flag("GAN_COMPILE", False), device_type=device.type)


def _is_conv(net: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in net.modules())


def attach(run) -> Precision:
    """Apply the settings to a freshly built GANRun (its nets, its family's step, its update); returns them. With
    fp32, no channels_last and no compile (the CPU's default) the run is left exactly as it was."""
    p = settings_for(run.device)
    if p.device_type == "cuda":
        _fused_adam(run)
    if p.channels_last:
        for net in list(run.nets.values()) + list(run.ema.values()):
            if _is_conv(net):
                net.to(memory_format=torch.channels_last)   # 4-D weights as (O, kH, kW, I) in memory
    if p.compile:
        for net in run.nets.values():
            net.compile()                                   # the module's forward through torch.compile, in place
    if p.dtype is not None:
        _autocast_step(run, p)
    return p


def _fused_adam(run) -> None:
    """On CUDA, Adam as one fused kernel per step (torch.optim.Adam(fused=True)): the fastest there, and the one
    that takes GradScaler's inf check on the device (plain Adam under a GradScaler reads it on the host, a sync per
    step). Built before the first step, so there is no state to carry; a checkpoint's optimiser state (saved as
    foreach or plain Adam) loads into it and the fused flag is set again after each load."""
    for group, old in list(run.opt.items()):
        h = old.param_groups[0]
        opt = torch.optim.Adam(run.params[group], lr=h["lr"], betas=tuple(map(float, h["betas"])), fused=True)

        def keep_fused(o):
            for g in o.param_groups:
                g["fused"], g["foreach"] = True, False
        opt.register_load_state_dict_post_hook(keep_fused)
        run.opt[group] = opt


def _autocast_step(run, p: Precision) -> None:
    """family.train_step under autocast; run.update (backward, step, EMA) with autocast off, and for fp16 through
    a GradScaler. Wrapped on the instances, so the family and GANRun code stay the same on every device."""
    family, update = run.family, run.update
    step = family.train_step

    def train_step(kind):
        with torch.autocast(p.device_type, dtype=p.dtype):
            out = step(kind)
        return {name: v.float() for name, v in out.items()}     # scalars reported in fp32
    family.train_step = train_step

    if p.dtype == torch.float16:
        scaler = run.grad_scaler = torch.amp.GradScaler(p.device_type)

        def scaled_update(group, loss):
            with torch.autocast(p.device_type, enabled=False):
                return _scaled_update(run, scaler, group, loss)
        run.update = scaled_update
    else:
        def plain_update(group, loss):
            with torch.autocast(p.device_type, enabled=False):
                return update(group, loss)
        run.update = plain_update


def _scaled_update(run, scaler, group: str, loss: torch.Tensor) -> torch.Tensor:
    """GANRun.update with fp16 loss scaling (torch.amp's recipe): backward of S * loss, unscale the gradients (the
    norm is measured on the true gradients), step unless they overflowed, adjust S. No host sync: the scaler keeps
    its inf check and scale on the device."""
    from ganengine.run import total_grad_norm
    opt, params = run.opt[group], run.params[group]
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()          # d(S L)/dw: small gradients survive fp16
    scaler.unscale_(opt)                   # grads / S, and a found-inf flag on the device
    grad_norm = total_grad_norm(params)    # ||grad||_2 of the true gradients
    scaler.step(opt)                       # skipped when found-inf
    scaler.update()                        # S halves after an overflow, doubles after 2000 clean steps
    run.updates[group] += 1
    if run.ema and group in run._ema_groups:
        run._update_ema()
    return grad_norm
