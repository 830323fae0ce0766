"""Nested training states (dicts, lists and tuples of tensors and plain values, as GANRun.training_state returns):
their tensors, and a CPU copy that a restore point or a chunked ZeroGPU call can keep."""
from __future__ import annotations

import copy

import torch


def tensors_in(obj):
    """Every tensor of a nested state (dicts, lists, tuples), depth first."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from tensors_in(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from tensors_in(v)


def to_cpu(obj):
    """A deep copy of a nested state with every tensor cloned to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_cpu(v) for v in obj)
    return copy.deepcopy(obj)
