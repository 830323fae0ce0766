"""Checkpoints: a plain dict of format version, family, config, state dicts, optimiser states, step and RNG states.

Version 2 (issue 11): {"format", "version": 2, "family", "config", "knobs", "spec", "step", "updates" {group: n},
"train_seconds", "state": GANRun.training_state() = {"nets" {name: state dict}, "ema" {name: state dict},
"ema_updates", "opt" {group: Adam state}, "rng" {"noise", "data"}, "extra" (the family's)}}. Version 1 files (the
gan family only: "G", "D", "G_ema", "opt_g", "opt_d", "rng" and d_updates / g_updates) are read by upgrading them
to version 2 (upgrade_v1); their EMA warm-up count was never saved and is taken as g_updates (EMA on from the start).

Written atomically (a temporary file in the same folder, fsync, then rename), so a crash mid-write leaves the previous
checkpoint intact. Read only with ``torch.load(..., weights_only=True)``, which refuses pickled code, and then checked
field by field, so that a small hostile file cannot make the server allocate anything big:
- the data description is bounded (image side <= MAX_IMAGE_SIDE, 1 or 3 channels, <= MAX_CLASSES classes);
- the models are built on the "meta" device first (no memory), and refused above MAX_MODEL_PARAMS per network;
- every tensor must own the bytes its shape needs: a stride-0 "expanded" view of one number (10 KB of file that
  claims gigabytes) or any other non-contiguous tensor is refused, so weights cost at most the file's own size;
- every weight, optimiser moment and RNG state must have the model's shape and dtype, and be finite.
Anything else is rejected with CheckpointError. Never a pickled module (the nanoGPT convention).
The checks themselves: ganengine/checkpoint_checks.py; the atomic write: ganengine/atomic_write.py.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Union

import numpy as np
import torch

from ganengine.atomic_write import remove_stale_temp_files, write_atomic
from ganengine.checkpoint_checks import (MAX_CLASSES, MAX_IMAGE_SIDE, MAX_TENSORS, MAX_TEXT, NET_WORDS,
                                         CheckpointError, check_all_tensors, check_optimizer, check_rng, check_state,
                                         spec_from_dict, whole_number)
from ganengine.checkpoint_points import check_points_entry, points_entry
from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.spec import DataSpec
from ganengine.families import build_nets, family_class

__all__ = ["FORMAT", "VERSION", "READABLE_VERSIONS", "MAX_CHECKPOINT_BYTES", "MAX_IMAGE_SIDE", "MAX_CLASSES",
           "MAX_TEXT", "MAX_TENSORS", "CheckpointError", "spec_to_dict", "spec_from_dict", "build_checkpoint",
           "upgrade_v1", "checkpoint_bytes", "write_atomic", "remove_stale_temp_files", "save_checkpoint",
           "read_checkpoint", "validate_checkpoint", "generator_from_checkpoint", "restore_run"]

FORMAT = "ganengine-checkpoint"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_CHECKPOINT_BYTES = 200 * 2**20


def spec_to_dict(spec: DataSpec) -> dict:
    return {"name": spec.name, "title": spec.title, "kind": spec.kind, "shape": list(spec.shape),
            "num_classes": spec.num_classes, "class_names": list(spec.class_names), "bounds": list(spec.bounds),
            "centres": None if spec.centres is None else torch.from_numpy(np.asarray(spec.centres, np.float32)),
            "sigma": spec.sigma}


def build_checkpoint(run) -> dict:
    """The checkpoint dict of a GANRun (tensors are the live ones: serialise before the run trains on)."""
    return {"format": FORMAT, "version": VERSION, "family": run.config.family, "config": run.config.to_dict(),
            "knobs": run.knobs.to_dict(), "spec": spec_to_dict(run.spec), "step": run.step,
            "updates": dict(run.updates), "train_seconds": run.train_seconds, "state": run.training_state(),
            **points_entry(run)}  # a run on the visitor's own points carries them (ganengine.checkpoint_points)


def upgrade_v1(ckpt: dict) -> dict:
    """A version-1 checkpoint (gan family) in the version-2 layout; fields it lacks stay absent for validation."""
    state = ckpt.get("state")
    if not isinstance(state, dict):
        return ckpt
    new = {"nets": {"G": state.get("G"), "D": state.get("D")}, "ema": {}, "ema_updates": 0}
    if state.get("G_ema") is not None:
        new["ema"] = {"G": state["G_ema"]}
        new["ema_updates"] = ckpt.get("g_updates", 0)   # never saved in v1: EMA on since the start
    if "opt_g" in state or "opt_d" in state:
        new["opt"] = {k: state[key] for k, key in (("G", "opt_g"), ("D", "opt_d")) if key in state}
    if "rng" in state:
        new["rng"] = state["rng"]
    return {**ckpt, "version": VERSION, "family": "gan", "state": new,
            "updates": {"G": ckpt.get("g_updates", 0), "D": ckpt.get("d_updates", 0)}}


def checkpoint_bytes(run) -> bytes:
    buf = io.BytesIO()
    torch.save(build_checkpoint(run), buf)
    return buf.getvalue()


def save_checkpoint(run, path: Union[str, Path]) -> Path:
    return write_atomic(path, checkpoint_bytes(run))


def read_checkpoint(source: Union[str, Path, bytes], *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> dict:
    """Load and fully validate a checkpoint from a path or bytes. Raises CheckpointError; never runs pickled code."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > max_bytes:
            raise CheckpointError(f"the file is {len(source) / 2**20:.1f} MiB; checkpoints are limited to "
                                  f"{max_bytes // 2**20} MiB")
        stream, name = io.BytesIO(source), "the uploaded file"
    else:
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise CheckpointError(f"checkpoint not found: {source}")
        if path.stat().st_size > max_bytes:
            raise CheckpointError(f"{name} is {path.stat().st_size / 2**20:.1f} MiB; checkpoints are limited to "
                                  f"{max_bytes // 2**20} MiB")
        stream = path
    try:
        ckpt = torch.load(stream, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError (refused code), zip/EOF errors (truncated), RuntimeError...
        why = "it holds code or objects that are not plain tensors and numbers" if "weights_only" in str(err) \
            else "it is not a complete PyTorch checkpoint"
        if isinstance(err, (zipfile.BadZipFile, EOFError)):
            why = "it is truncated or not a PyTorch checkpoint"
        raise CheckpointError(f"{name} was refused: {why}") from None
    return validate_checkpoint(ckpt, name)


def validate_checkpoint(ckpt, name: str = "checkpoint") -> dict:
    """Check a loaded checkpoint dict field by field (see the module docstring); add "_config", "_knobs" and
    "_spec". Raises CheckpointError with one sentence; builds nothing but meta-device models."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a GAN Playground checkpoint")
    if ckpt.get("version") not in READABLE_VERSIONS:
        raise CheckpointError(f"{name} has format version {ckpt.get('version')!r}; this engine reads versions "
                              f"{', '.join(map(str, READABLE_VERSIONS))}")
    check_all_tensors(ckpt, name)
    if ckpt["version"] == 1:
        ckpt = upgrade_v1(ckpt)
    try:
        family = family_class(ckpt.get("family"))
        config = RunConfig.from_dict({**ckpt["config"], "family": family.name})
        knobs = Knobs.from_dict(ckpt["knobs"]).for_family(family)
        if not 0 <= whole_number(ckpt["step"]) <= 10**12:
            raise ValueError("step out of range")
        updates = ckpt.get("updates", {})
        if not isinstance(updates, dict) or set(updates) - set(family.groups) or \
                not all(0 <= whole_number(v) <= 10**12 for v in updates.values()):
            raise ValueError("the update counts are not whole numbers of the family's optimiser groups")
        train_seconds = float(ckpt.get("train_seconds", 0.0))
        if not 0 <= train_seconds < 10**12:
            raise ValueError("train_seconds out of range")
        check_points_entry(ckpt, "the data")
    except ConfigError as err:
        raise CheckpointError(f"{name} has an invalid setting: {err}") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise CheckpointError(f"{name} is missing a field or has a bad one ({str(err)[:120]})") from None
    spec = spec_from_dict(ckpt.get("spec") or {})
    state = ckpt.get("state")
    if not isinstance(state, dict) or not isinstance(state.get("nets"), dict):
        raise CheckpointError(f"{name} holds no model state")
    with torch.device("meta"):
        try:
            nets = build_nets(family, config, spec)  # refuses more than MAX_MODEL_PARAMS per network
        except ConfigError as err:
            raise CheckpointError(f"{name} describes a model that cannot be built: {err}") from None
    for net_name, net in nets.items():
        check_state(state["nets"].get(net_name), net.state_dict(), f"{name}: {NET_WORDS.get(net_name, net_name)}")
    ema = state.get("ema") or {}
    if not isinstance(ema, dict) or set(ema) - set(family.sampling):
        raise CheckpointError(f"{name}: the EMA copies are not of the family's sampling nets")
    for net_name, weights in ema.items():
        check_state(weights, nets[net_name].state_dict(), f"{name}: {NET_WORDS.get(net_name, net_name)} EMA")
    try:
        if not 0 <= whole_number(state.get("ema_updates", 0)) <= 10**12:
            raise ValueError
    except ValueError:
        raise CheckpointError(f"{name}: the EMA update count is not a whole number") from None
    opt = state.get("opt", {})  # needed by restore_run only; sampling ignores it
    if not isinstance(opt, dict) or set(opt) - set(family.groups):
        raise CheckpointError(f"{name}: the optimiser states are not of the family's groups")
    for group, state_dict in opt.items():
        shapes = [tuple(p.shape) for n in family.groups[group] for p in nets[n].parameters()]
        what = {"G": "generator", "D": "discriminator"}.get(group, group)
        check_optimizer(state_dict, shapes, f"{name}: {what} optimiser")
    if "rng" in state:
        check_rng(state["rng"], f"{name}: random state")
    extra = state.get("extra", {})
    if not isinstance(extra, dict):
        raise CheckpointError(f"{name}: the family's extra state is not a dictionary")
    try:
        family.check_extra_state(extra, config, spec)
    except (ValueError, RuntimeError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{name}: the family's extra state does not fit ({str(err)[:160]})") from None
    ckpt["_config"], ckpt["_knobs"], ckpt["_spec"] = config, knobs, spec
    return ckpt


def generator_from_checkpoint(ckpt: dict, *, device: Union[str, torch.device] = "cpu", ema: bool = True,
                              net: str = ""):
    """(the family's first sampling net (or ``net``) in eval mode on device, RunConfig, DataSpec) from a validated
    checkpoint; the EMA weights when present."""
    config, spec = ckpt["_config"], ckpt["_spec"]
    family = family_class(config.family)
    net = net or family.sampling[0]
    G = build_nets(family, config, spec)[net]
    state = ckpt["state"]
    G.load_state_dict(state["ema"][net] if ema and net in (state.get("ema") or {}) else state["nets"][net])
    G = G.to(device).eval()
    G.requires_grad_(False)
    return G, config, spec


def restore_run(ckpt: dict, run) -> None:
    """Load a validated checkpoint's full training state into a GANRun built from its config."""
    try:
        run.load_training_state(ckpt["state"])
    except (KeyError, ValueError, RuntimeError, TypeError) as err:
        raise CheckpointError(f"the checkpoint's optimiser or RNG state does not fit ({str(err)[:160]})") from None
    run.set_counters(int(ckpt["step"]), ckpt.get("updates", {}), float(ckpt.get("train_seconds", 0.0)))
