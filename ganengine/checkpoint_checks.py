"""The field-by-field checks of a loaded checkpoint (ganengine.checkpoint.validate_checkpoint runs them): a small
hostile file must not make the server allocate anything big, and a mismatched one is refused with one sentence.
- the data description is bounded (image side <= MAX_IMAGE_SIDE, 1 or 3 channels, <= MAX_CLASSES classes);
- every tensor must own the bytes its shape needs (check_all_tensors), so weights cost at most the file's own size;
- every weight, optimiser moment and RNG state must have the model's shape and dtype, and be finite.
"""
from __future__ import annotations

import numpy as np
import torch

from ganengine.config import ConfigError
from ganengine.data.spec import DataSpec

MAX_IMAGE_SIDE = 256       # as RunConfig.image_size
MAX_CLASSES = 1000         # num_classes, class names, mixture centres
MAX_TEXT = 200             # characters of a name, title or class name
MAX_TENSORS = 10_000       # tensors and containers in one file (ours hold a few hundred)


class CheckpointError(ConfigError):
    """A file is not a checkpoint this engine can use; the message says why."""


def spec_from_dict(d: dict) -> DataSpec:
    """A checkpoint's data description, every field bounded; CheckpointError (one sentence) if unusable."""
    try:
        kind = d["kind"]
        shape = tuple(whole_number(v) for v in d["shape"][:4])
        if kind not in ("points", "image", "paired", "unpaired", "sequence") or (kind == "points" and shape != (2,)) or \
                (kind != "points" and (len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2])):
            raise ValueError(f"unsupported data shape {shape}")
        if kind != "points" and not 4 <= shape[1] <= MAX_IMAGE_SIDE:
            raise ValueError(f"images of {shape[1]}x{shape[1]} pixels; the limit is {MAX_IMAGE_SIDE}")
        num_classes = whole_number(d.get("num_classes", 0))
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


def whole_number(v) -> int:
    """A plain int from an int (bool refused), a whole float or a 0-d integer tensor; ValueError otherwise."""
    if isinstance(v, bool) or not isinstance(v, (int, float, torch.Tensor)) or \
            (isinstance(v, torch.Tensor) and (v.numel() != 1 or v.is_floating_point())):
        raise ValueError(f"expected a whole number, got {type(v).__name__}")
    if isinstance(v, float) and not v.is_integer():
        raise ValueError(f"expected a whole number, got {v}")
    return int(v)


def check_all_tensors(obj, name: str) -> None:
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


def check_state(got, expected: dict, what: str) -> None:
    if not isinstance(got, dict):
        raise CheckpointError(f"{what} weights are missing")
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    if missing or extra:
        raise CheckpointError(f"{what} weights do not match the model (missing {sorted(missing)[:3]}, "
                              f"unexpected {sorted(map(str, extra))[:3]})")
    for key, ref in expected.items():
        check_tensor(got[key], tuple(ref.shape), ref.dtype, f"{what} weight {key}")


def check_tensor(t, shape: tuple, dtype: torch.dtype, what: str) -> None:
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape:
        got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise CheckpointError(f"{what} has shape {got}, the model needs {shape}")
    if t.dtype != dtype:
        raise CheckpointError(f"{what} is {t.dtype}, the model needs {dtype}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise CheckpointError(f"{what} holds NaN or infinite values")


_OPT_FLAGS = ("amsgrad", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay")


def check_optimizer(opt, shapes: list, what: str) -> None:
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
                check_tensor(entry[key], shapes[i], torch.float32, f"{what} {key} of parameter {i}")
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise CheckpointError(f"{what} does not fit: {str(err)[:160]}") from None


def check_rng(rng, what: str) -> None:
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


NET_WORDS = {"G": "generator", "D": "discriminator"}
