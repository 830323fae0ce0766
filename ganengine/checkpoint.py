"""Checkpoints: a plain dict of format version, config, state dicts, optimiser states, step and RNG states.

Written atomically (a temporary file in the same folder, fsync, then rename), so a crash mid-write leaves the previous
checkpoint intact. Read only with ``torch.load(..., weights_only=True)``, which refuses pickled code, and then checked
field by field: every tensor's shape must match models built from the stored config (built on the "meta" device
first, so a hostile config cannot make us allocate anything). Anything else is rejected with CheckpointError.
Never a pickled module (the nanoGPT convention).
"""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Union

import numpy as np
import torch

from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.spec import DataSpec
from ganengine.models import build_models

FORMAT = "ganengine-checkpoint"
VERSION = 1
MAX_CHECKPOINT_BYTES = 200 * 2**20


class CheckpointError(ConfigError):
    """A file is not a checkpoint this engine can use; the message says why."""


def spec_to_dict(spec: DataSpec) -> dict:
    return {"name": spec.name, "title": spec.title, "kind": spec.kind, "shape": list(spec.shape),
            "num_classes": spec.num_classes, "class_names": list(spec.class_names), "bounds": list(spec.bounds),
            "centres": None if spec.centres is None else torch.from_numpy(np.asarray(spec.centres, np.float32)),
            "sigma": spec.sigma}


def spec_from_dict(d: dict) -> DataSpec:
    try:
        kind = d["kind"]
        shape = tuple(int(v) for v in d["shape"])
        if kind not in ("points", "image") or (kind == "points" and shape != (2,)) or \
                (kind == "image" and (len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2])):
            raise ValueError(f"unsupported data shape {shape}")
        centres = d.get("centres")
        return DataSpec(name=str(d["name"]), title=str(d.get("title", d["name"])), kind=kind, shape=shape,
                        num_classes=int(d.get("num_classes", 0)),
                        class_names=tuple(str(c) for c in d.get("class_names", ())),
                        bounds=tuple(float(v) for v in d.get("bounds", (-1, 1, -1, 1))),
                        centres=None if centres is None else centres.numpy(),
                        sigma=None if d.get("sigma") is None else float(d["sigma"]))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(f"the checkpoint's data description is unusable ({err})") from None


def build_checkpoint(run) -> dict:
    """The checkpoint dict of a GANRun (tensors are the live ones: serialise before the run trains on)."""
    return {"format": FORMAT, "version": VERSION, "config": run.config.to_dict(), "knobs": run.knobs.to_dict(),
            "spec": spec_to_dict(run.spec), "step": run.step, "d_updates": run.d_updates, "g_updates": run.g_updates,
            "train_seconds": run.train_seconds, "state": run.training_state()}


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
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a GAN Playground checkpoint")
    if ckpt.get("version") != VERSION:
        raise CheckpointError(f"{name} has format version {ckpt.get('version')!r}; this engine reads version {VERSION}")
    try:
        config, knobs = RunConfig.from_dict(ckpt["config"]), Knobs.from_dict(ckpt["knobs"])
        int(ckpt["step"])
    except ConfigError as err:
        raise CheckpointError(f"{name} has an invalid setting: {err}") from None
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{name} is missing a field ({err})") from None
    spec = spec_from_dict(ckpt.get("spec") or {})
    state = ckpt.get("state")
    if not isinstance(state, dict):
        raise CheckpointError(f"{name} holds no model state")
    with torch.device("meta"):
        try:
            G, D = build_models(config, spec)
        except ConfigError as err:
            raise CheckpointError(f"{name} describes a model that cannot be built: {err}") from None
    _check_state(state.get("G"), G.state_dict(), f"{name}: generator")
    _check_state(state.get("D"), D.state_dict(), f"{name}: discriminator")
    if state.get("G_ema") is not None:
        _check_state(state["G_ema"], G.state_dict(), f"{name}: generator EMA")
    ckpt["_config"], ckpt["_knobs"], ckpt["_spec"] = config, knobs, spec
    return ckpt


def _check_state(got, expected: dict, what: str) -> None:
    if not isinstance(got, dict):
        raise CheckpointError(f"{what} weights are missing")
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    if missing or extra:
        raise CheckpointError(f"{what} weights do not match the model (missing {sorted(missing)[:3]}, "
                              f"unexpected {sorted(extra)[:3]})")
    for key, ref in expected.items():
        t = got[key]
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(ref.shape):
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise CheckpointError(f"{what} weight {key} has shape {shape}, the model needs {tuple(ref.shape)}")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{what} weight {key} holds NaN or infinite values")


def generator_from_checkpoint(ckpt: dict, *, device: Union[str, torch.device] = "cpu", ema: bool = True):
    """(G in eval mode on device, RunConfig, DataSpec) from a validated checkpoint; the EMA weights when present."""
    config, spec = ckpt["_config"], ckpt["_spec"]
    G, _ = build_models(config, spec)
    state = ckpt["state"]
    G.load_state_dict(state["G_ema"] if ema and state.get("G_ema") is not None else state["G"])
    G = G.to(device).eval()
    G.requires_grad_(False)
    return G, config, spec


def restore_run(ckpt: dict, run) -> None:
    """Load a validated checkpoint's full training state into a GANRun built from its config."""
    try:
        run.load_training_state(ckpt["state"])
    except (KeyError, ValueError, RuntimeError, TypeError) as err:
        raise CheckpointError(f"the checkpoint's optimiser or RNG state does not fit ({str(err)[:160]})") from None
    run.step, run.d_updates, run.g_updates = int(ckpt["step"]), int(ckpt.get("d_updates", 0)), int(ckpt.get("g_updates", 0))
    run.train_seconds = float(ckpt.get("train_seconds", 0.0))
