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
"""
from __future__ import annotations

import io
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Union

import numpy as np
import torch

from ganengine.checkpoint_points import check_points_entry, points_entry
from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.spec import DataSpec
from ganengine.families import build_nets, family_class

FORMAT = "ganengine-checkpoint"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_CHECKPOINT_BYTES = 200 * 2**20
MAX_IMAGE_SIDE = 256       # as RunConfig.image_size
MAX_CLASSES = 1000         # num_classes, class names, mixture centres
MAX_TEXT = 200             # characters of a name, title or class name
MAX_TENSORS = 10_000       # tensors and containers in one file (ours hold a few hundred)


class CheckpointError(ConfigError):
    """A file is not a checkpoint this engine can use; the message says why."""


def spec_to_dict(spec: DataSpec) -> dict:
    return {"name": spec.name, "title": spec.title, "kind": spec.kind, "shape": list(spec.shape),
            "num_classes": spec.num_classes, "class_names": list(spec.class_names), "bounds": list(spec.bounds),
            "centres": None if spec.centres is None else torch.from_numpy(np.asarray(spec.centres, np.float32)),
            "sigma": spec.sigma}


def spec_from_dict(d: dict) -> DataSpec:
    """A checkpoint's data description, every field bounded; CheckpointError (one sentence) if unusable."""
    try:
        kind = d["kind"]
        shape = tuple(_int(v) for v in d["shape"][:4])
        if kind not in ("points", "image", "paired", "unpaired", "sequence") or (kind == "points" and shape != (2,)) or \
                (kind != "points" and (len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2])):
            raise ValueError(f"unsupported data shape {shape}")
        if kind != "points" and not 4 <= shape[1] <= MAX_IMAGE_SIDE:
            raise ValueError(f"images of {shape[1]}x{shape[1]} pixels; the limit is {MAX_IMAGE_SIDE}")
        num_classes = _int(d.get("num_classes", 0))
        if not 0 <= num_classes <= MAX_CLASSES:
            raise ValueError(f"{num_classes} classes; the limit is {MAX_CLASSES}")
        names = d.get("class_names", ())
        if not isinstance(names, (list, tuple)) or len(names) > MAX_CLASSES or \
                not all(isinstance(c, str) and len(c) <= MAX_TEXT for c in names):
            raise ValueError(f"class names must be at most {MAX_CLASSES} texts of at most {MAX_TEXT} characters")
        bounds = tuple(float(v) for v in d.get("bounds", (-1, 1, -1, 1)))
        if len(bounds) != 4 or not all(np.isfinite(bounds)) or bounds[0] >= bounds[1] or bounds[2] >= bounds[3]:
            raise ValueError("the plot bounds must be four finite numbers, xmin < xmax and ymin < ymax")
        centres = d.get("centres")
        if centres is not None:
            if not isinstance(centres, torch.Tensor) or centres.dtype != torch.float32 or centres.ndim != 2 or \
                    centres.shape[1] != 2 or not 1 <= len(centres) <= MAX_CLASSES or not torch.isfinite(centres).all():
                raise ValueError(f"the mixture centres must be 1 to {MAX_CLASSES} finite float32 x,y pairs")
            centres = centres.numpy()
        sigma = None if d.get("sigma") is None else float(d["sigma"])
        if sigma is not None and not (np.isfinite(sigma) and sigma > 0):
            raise ValueError("the mixture sigma must be a positive finite number")
        name, title = d["name"], d.get("title", d["name"])
        if not (isinstance(name, str) and isinstance(title, str) and len(name) <= MAX_TEXT and len(title) <= MAX_TEXT):
            raise ValueError(f"the data name and title must be texts of at most {MAX_TEXT} characters")
        return DataSpec(name=name, title=title, kind=kind, shape=shape, num_classes=num_classes,
                        class_names=tuple(names), bounds=bounds, centres=centres, sigma=sigma)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise CheckpointError(f"the checkpoint's data description is unusable ({str(err)[:160]})") from None


def _int(v) -> int:
    """A plain int from an int (bool refused), a whole float or a 0-d integer tensor; ValueError otherwise."""
    if isinstance(v, bool) or not isinstance(v, (int, float, torch.Tensor)) or \
            (isinstance(v, torch.Tensor) and (v.numel() != 1 or v.is_floating_point())):
        raise ValueError(f"expected a whole number, got {type(v).__name__}")
    if isinstance(v, float) and not v.is_integer():
        raise ValueError(f"expected a whole number, got {v}")
    return int(v)


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


def write_atomic(path: Union[str, Path], data: bytes) -> Path:
    """Write bytes to path through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


# write_atomic's temporary files: "." + the target's name + "." + mkstemp's 8 random characters + ".tmp".
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def remove_stale_temp_files(folder: Union[str, Path], older_than_s: float = 600.0) -> list:
    """Delete write_atomic's leftovers in folder: temporary files of saves that a killed process (kill -9, a crash,
    a power cut) never finished. Only regular files named as write_atomic names them and not modified for
    older_than_s seconds are removed, so a save in progress (another thread or process) is never hit; the default
    of 10 minutes is far longer than any save takes. Returns the names removed. Missing folders are fine."""
    folder, removed = Path(folder), []
    cutoff = time.time() - older_than_s
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.name)
        except FileNotFoundError:  # removed meanwhile (its save finished, or another clean-up)
            pass
    return removed


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
    _check_all_tensors(ckpt, name)
    if ckpt["version"] == 1:
        ckpt = upgrade_v1(ckpt)
    try:
        family = family_class(ckpt.get("family"))
        config = RunConfig.from_dict({**ckpt["config"], "family": family.name})
        knobs = Knobs.from_dict(ckpt["knobs"]).for_family(family)
        if not 0 <= _int(ckpt["step"]) <= 10**12:
            raise ValueError("step out of range")
        updates = ckpt.get("updates", {})
        if not isinstance(updates, dict) or set(updates) - set(family.groups) or \
                not all(0 <= _int(v) <= 10**12 for v in updates.values()):
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
        _check_state(state["nets"].get(net_name), net.state_dict(), f"{name}: {_NET_WORDS.get(net_name, net_name)}")
    ema = state.get("ema") or {}
    if not isinstance(ema, dict) or set(ema) - set(family.sampling):
        raise CheckpointError(f"{name}: the EMA copies are not of the family's sampling nets")
    for net_name, weights in ema.items():
        _check_state(weights, nets[net_name].state_dict(), f"{name}: {_NET_WORDS.get(net_name, net_name)} EMA")
    try:
        if not 0 <= _int(state.get("ema_updates", 0)) <= 10**12:
            raise ValueError
    except ValueError:
        raise CheckpointError(f"{name}: the EMA update count is not a whole number") from None
    opt = state.get("opt", {})  # needed by restore_run only; sampling ignores it
    if not isinstance(opt, dict) or set(opt) - set(family.groups):
        raise CheckpointError(f"{name}: the optimiser states are not of the family's groups")
    for group, state_dict in opt.items():
        shapes = [tuple(p.shape) for n in family.groups[group] for p in nets[n].parameters()]
        what = {"G": "generator", "D": "discriminator"}.get(group, group)
        _check_optimizer(state_dict, shapes, f"{name}: {what} optimiser")
    if "rng" in state:
        _check_rng(state["rng"], f"{name}: random state")
    extra = state.get("extra", {})
    if not isinstance(extra, dict):
        raise CheckpointError(f"{name}: the family's extra state is not a dictionary")
    try:
        family.check_extra_state(extra, config, spec)
    except (ValueError, RuntimeError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{name}: the family's extra state does not fit ({str(err)[:160]})") from None
    ckpt["_config"], ckpt["_knobs"], ckpt["_spec"] = config, knobs, spec
    return ckpt


def _check_all_tensors(obj, name: str) -> None:
    """Every tensor anywhere in the file must be a plain dense CPU tensor that owns the bytes its shape needs.

    torch.load rebuilds a tensor from (storage, offset, shape, strides); strides of 0 let 4 bytes of storage pose as
    a tensor of any size (torch.zeros(1).expand(256, 256, 4, 4)), which a model then copies into real memory.
    Requiring contiguity and a storage of at least numel * element_size bytes bounds all tensor data by the file's
    own size. The walk is iterative and bounded (MAX_TENSORS), so deep or wide nesting cannot exhaust the stack."""
    stack, seen = [obj], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_TENSORS:
            raise CheckpointError(f"{name} holds more than {MAX_TENSORS:,} tensors and containers; refused")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, torch.Tensor):
            if item.layout != torch.strided or item.device.type != "cpu" or item.is_quantized:
                raise CheckpointError(f"{name} holds a {item.layout} or {item.device.type} tensor; only plain tensors "
                                      f"are read")
            if not item.is_contiguous() or \
                    item.untyped_storage().nbytes() < (item.storage_offset() + item.numel()) * item.element_size():
                raise CheckpointError(f"{name} holds a tensor of shape {tuple(item.shape)} whose data is not in the "
                                      f"file (an expanded or strided view); refused")


def _check_state(got, expected: dict, what: str) -> None:
    if not isinstance(got, dict):
        raise CheckpointError(f"{what} weights are missing")
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    if missing or extra:
        raise CheckpointError(f"{what} weights do not match the model (missing {sorted(missing)[:3]}, "
                              f"unexpected {sorted(map(str, extra))[:3]})")
    for key, ref in expected.items():
        _check_tensor(got[key], tuple(ref.shape), ref.dtype, f"{what} weight {key}")


def _check_tensor(t, shape: tuple, dtype: torch.dtype, what: str) -> None:
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape:
        got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise CheckpointError(f"{what} has shape {got}, the model needs {shape}")
    if t.dtype != dtype:
        raise CheckpointError(f"{what} is {t.dtype}, the model needs {dtype}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise CheckpointError(f"{what} holds NaN or infinite values")


_OPT_FLAGS = ("amsgrad", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay")


def _check_optimizer(opt, shapes: list, what: str) -> None:
    """An Adam state_dict for parameters of these shapes, in the form this engine writes: one parameter group over
    all of them, finite settings, none of the flags this engine never sets, and moments of each parameter's shape."""
    n = len(shapes)
    try:
        groups, state = opt["param_groups"], opt["state"]
        if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], dict) or \
                list(groups[0].get("params", ())) != list(range(n)):
            raise ValueError("it must have one parameter group over the model's parameters")
        group = groups[0]
        numbers = [group["lr"], group["eps"], group.get("weight_decay", 0), *group["betas"]]
        if len(group["betas"]) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                               and np.isfinite(v) and v >= 0 for v in numbers):
            raise ValueError("its learning rate, betas, eps and weight decay must be finite numbers >= 0")
        if any(group.get(flag) for flag in _OPT_FLAGS):
            raise ValueError(f"it sets options this engine never uses ({', '.join(_OPT_FLAGS)})")
        if not isinstance(state, dict) or not set(state) <= set(range(n)):
            raise ValueError("its state names parameters the model does not have")
        for i, entry in state.items():
            if not isinstance(entry, dict) or set(entry) != {"step", "exp_avg", "exp_avg_sq"}:
                raise ValueError(f"parameter {i}'s state must hold step, exp_avg and exp_avg_sq")
            step = entry["step"]
            if not isinstance(step, torch.Tensor) or step.numel() != 1 or step.dtype != torch.float32 or \
                    not (torch.isfinite(step).all() and step.item() >= 0):
                raise ValueError(f"parameter {i}'s step must be one finite float32 number >= 0")
            for key in ("exp_avg", "exp_avg_sq"):
                _check_tensor(entry[key], shapes[i], torch.float32, f"{what} {key} of parameter {i}")
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise CheckpointError(f"{what} does not fit: {str(err)[:160]}") from None


def _check_rng(rng, what: str) -> None:
    """Generator states are small uint8 vectors; a data order (perm) is a vector of int64 row indices. The data
    state is one order ({"generator", "perm", "pos"}) or, for a source that walks several sets (the unpaired
    domains), up to 8 named orders ({"a": order, "b": order})."""
    def byte_state(t, label):
        if not isinstance(t, torch.Tensor) or t.dtype != torch.uint8 or t.ndim != 1 or t.numel() > 16_384:
            raise CheckpointError(f"{what}: {label} is not a generator state")

    def order(data):
        byte_state(data.get("generator"), "the data generator")
        if "perm" in data:
            perm, pos = data["perm"], data.get("pos")
            if not isinstance(perm, torch.Tensor) or perm.dtype != torch.int64 or perm.ndim != 1 or \
                    isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= len(perm):
                raise CheckpointError(f"{what}: the data order is not a vector of row indices with a position in it")
    if not isinstance(rng, dict) or not isinstance(rng.get("data"), dict):
        raise CheckpointError(f"{what} is missing")
    byte_state(rng.get("noise"), "the noise generator")
    data = rng["data"]
    named = data and "generator" not in data and len(data) <= 8 and all(isinstance(v, dict) for v in data.values())
    for part in (data.values() if named else [data]):
        order(part)


_NET_WORDS = {"G": "generator", "D": "discriminator"}


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
