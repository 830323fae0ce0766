"""Slow motion: one training iteration recorded as it runs, then undone, so it can be told as narrated stages.

GAN Lab's slow-motion mode (Kahng et al. 2019, "GAN Lab: Understanding Complex Deep Generative Models using
Interactive Visual Experimentation", IEEE VIS; poloclub/ganlab demo/ganlab.ts, highlightStep) plays one iteration as
ten stages: for D, (1) G derives samples from noise, (2) D classifies samples, (3) D's loss, (4) D's gradients,
(5) D's update; then for G, (1) G derives samples, (2) D classifies the fake samples only, (3) G's loss, (4) G's
gradients, (5) G's update. ganengine.slow_motion_stages turns a recording into those stages for any family.

record_iteration(run) runs the family's own train_step, unchanged, with read-only probes:
  * a forward hook on every net keeps its inputs and output (G's samples, D's logits),
  * a gradient hook on every G output keeps dL/d(output) (the push G's loss gives each sample: GAN Lab's arrows),
  * run.update is wrapped: it keeps each update's loss, the per-layer gradient norms (p.grad is still there after
    Adam's step) and per-layer weight changes, and for 2-D data D's field before and after D's update,
  * run.adversarial.record is wrapped: it keeps each D update's logits on the real and the fake batch.
Then everything the iteration changed is put back: weights, EMA, Adam moments, the noise and data streams (the run's
training_state, as rewind restores it), the family's attributes, the update counters, the histogram batches, and
torch's global RNG (forked
around the whole recording: dropout draws from it). The visitor's real step then goes through the trainer's normal
path and computes the very same numbers (tests/test_slow_motion.py checks this bit for bit, and that a run that was
recorded from replays exactly like one that was not).

The probes only read: no hook returns a value, the extra calls that draw the views (D on a grid of points, G's copy
after its update) run on frozen or copied nets with the global RNG forked, and nothing is recorded while they run.
"""
from __future__ import annotations

import copy
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from ganengine.families.base import eval_mode
from ganengine.render import field_axes

FIELD_RESOLUTION = 48   # rows of D's heat field (render.field_axes; 2-D data only)
MAX_KEPT = 64           # images (and their gradients) kept per batch for the views
MAX_POINTS = 1024       # 2-D points kept per batch


@dataclass
class Forward:
    net: str
    group: str                    # "G" or "D" (the optimiser group the net trains in)
    args: tuple                   # its tensor inputs, detached (not copied: the families never write into them)
    kwargs: dict
    output: torch.Tensor          # its (first) output, detached copy, at most MAX_KEPT samples
    storage: int                  # data_ptr of its output and ...
    in_storage: tuple             # ... of its tensor inputs: says which D call scored which G output
    grad: torch.Tensor | None = None   # dL/d(output) when a loss reached it (G's outputs), at most MAX_KEPT


@dataclass
class Update:
    group: str
    loss: float
    grad_norm: float
    layers: list                  # (layer name, ||grad||, ||delta theta||, ||theta||) per layer of the group's nets
    field_before: object = None   # D's heat field (r, r) before / after a D update, 2-D data only
    field_after: object = None
    g_after: object = None        # (Forward index, G's output for the same inputs after a G update)


@dataclass
class Recording:
    """What one iteration did, in order: events are ("forward", Forward), ("update", Update), ("record", (l_r, l_f))."""
    kind: str
    step: int
    events: list = field(default_factory=list)
    forwards: list = field(default_factory=list)
    scalars: dict = field(default_factory=dict)      # the family's named scalars of this iteration, floats
    field_xy: tuple | None = None                    # (xs, ys) of the heat field's grid (2-D data)
    real_points: object = None                       # the real batch D scored (2-D data), shown from then on


def _first_tensor(out):
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        return next((t for t in out if isinstance(t, torch.Tensor)), None)
    if isinstance(out, dict):
        return next((t for t in out.values() if isinstance(t, torch.Tensor)), None)
    return None


def _ptr(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


class _Recorder:
    """Installs the probes on a run (see the module docstring) and removes them on exit."""

    def __init__(self, run, rec: Recording):
        self.run, self.rec, self.quiet = run, rec, False
        self.group_of = {n: g for g, names in type(run.family).groups.items() for n in names}
        self.handles = []

    def __enter__(self):
        run = self.run
        for name, net in run.nets.items():
            self.handles.append(net.register_forward_hook(self._forward_hook(name), with_kwargs=True))
        original_update, original_record = run.update, run.adversarial.record
        # what the instances held of their own (ganengine/precision.py wraps run.update on a GPU): put back on exit
        self.own_update = vars(run).get("update")
        self.own_record = vars(run.adversarial).get("record")

        def update(group, loss):                     # the run's own update, with readings around it
            return self._update(original_update, group, loss)

        def record(l_r, l_f):
            if not self.quiet:
                self.rec.events.append(("record", (l_r.detach().flatten(1) if l_r.dim() > 1 else l_r.detach(),
                                                   l_f.detach().flatten(1) if l_f.dim() > 1 else l_f.detach())))
            return original_record(l_r, l_f)
        run.update, run.adversarial.record = update, record   # instance attributes shadow the methods
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        for obj, name, own in ((self.run, "update", self.own_update),
                               (self.run.adversarial, "record", self.own_record)):
            if own is None:
                delattr(obj, name)                   # the class's method again
            else:
                setattr(obj, name, own)              # the instance's own wrapper again (mixed precision)

    # ---- probes -------------------------------------------------------------------------------------------------
    def _forward_hook(self, name: str):
        def hook(module, args, kwargs, output):
            out = _first_tensor(output)
            if self.quiet or out is None:
                return None
            tensors = tuple(a for a in args if isinstance(a, torch.Tensor))
            keep = MAX_POINTS if out.dim() <= 2 else MAX_KEPT
            fwd = Forward(net=name, group=self.group_of.get(name, "?"), args=tuple(
                a.detach() if isinstance(a, torch.Tensor) else a for a in args),
                kwargs=dict(kwargs), output=out.detach()[:keep].clone(), storage=_ptr(out),
                in_storage=tuple(_ptr(t) for t in tensors))
            index = len(self.rec.forwards)
            self.rec.forwards.append(fwd)
            self.rec.events.append(("forward", index))
            if out.requires_grad and fwd.group == "G":

                def keep_grad(grad, fwd=fwd, keep=keep):   # returns None: the gradient flows on unchanged
                    if not self.quiet:
                        g = grad.detach()[:keep].clone()
                        fwd.grad = g if fwd.grad is None else fwd.grad + g
                out.register_hook(keep_grad)
            return None
        return hook

    def _update(self, original, group: str, loss: torch.Tensor):
        run = self.run
        names = type(run.family).groups[group]
        before = {n: [p.detach().clone() for p in run.nets[n].parameters()] for n in names}
        field_before = self._field() if group == "D" else None
        grad_norm = original(group, loss)            # zero grad, backward, Adam step, EMA: the real thing
        layers = []
        for n in names:
            for (pname, p), p0 in zip(run.nets[n].named_parameters(), before[n]):
                layer = f"{n}.{pname.rsplit('.', 1)[0]}" if "." in pname else f"{n}.{pname}"
                g = float(p.grad.norm()) if p.grad is not None else 0.0
                d, w = float((p.detach() - p0).norm()), float(p0.norm())
                if layers and layers[-1][0] == layer:   # a layer's weight and bias together
                    _, g0, d0, w0 = layers[-1]
                    layers[-1] = (layer, float(np.hypot(g0, g)), float(np.hypot(d0, d)), float(np.hypot(w0, w)))
                else:
                    layers.append((layer, g, d, w))
        upd = Update(group=group, loss=float(loss.detach()), grad_norm=float(grad_norm), layers=layers,
                     field_before=field_before, field_after=self._field() if group == "D" else None)
        if group == "G":
            upd.g_after = self._g_after()
        self.rec.events.append(("update", upd))
        return grad_norm

    @contextmanager
    def _aside(self):
        """Extra calls for the views: nothing recorded, no change to the global RNG."""
        self.quiet = True
        try:
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                yield
        finally:
            self.quiet = False

    def _field(self):
        """sigmoid(D(x)) on a grid over the data (2-D data, one D), in eval mode on D as it is now; else None."""
        run = self.run
        d_nets = type(run.family).groups.get("D", ())
        if not run.spec.is_points or len(d_nets) != 1:
            return None
        xs, ys = (torch.from_numpy(a) for a in field_axes(run.spec.bounds, FIELD_RESOLUTION))
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2).to(run.device)  # (r*c, 2)
        self.rec.field_xy = (xs.numpy(), ys.numpy())
        D = run.nets[d_nets[0]]
        try:
            with self._aside(), eval_mode(D):
                return torch.sigmoid(_first_tensor(D(grid))).reshape(len(ys), len(xs)).float().cpu().numpy()  # (y, x)
        except (TypeError, RuntimeError):            # a D that needs more than points (a condition): no field
            return None

    def _g_after(self):
        """G's output, after its update, for the inputs of the G call its loss went through (a copy of G runs it)."""
        for index in range(len(self.rec.forwards) - 1, -1, -1):
            fwd = self.rec.forwards[index]
            if fwd.group == "G" and fwd.grad is not None:
                net = copy.deepcopy(self.run.nets[fwd.net])
                try:
                    with self._aside():
                        out = _first_tensor(net(*fwd.args, **fwd.kwargs))
                except (TypeError, RuntimeError):
                    return None
                return index, out.detach()[:len(fwd.output)].clone() if out is not None else None
        return None


def _save(run) -> dict:
    scaler = getattr(run, "grad_scaler", None)        # fp16's loss scaler (GPU): its scale moves in every update
    return {"state": copy.deepcopy(run.training_state()), "updates": dict(run.updates),
            "recent": list(run.adversarial.recent), "family": dict(vars(run.family)),
            "scaler": scaler.state_dict() if scaler is not None else None}


def _restore(run, saved: dict) -> None:
    """Back to the saved state; the family's own attributes first (progan's growth stage, kept fakes), then its
    extra state (replay pools, written in place during a step) from the saved training state."""
    vars(run.family).clear()
    vars(run.family).update(saved["family"])
    run.load_training_state(saved["state"])
    run.updates = saved["updates"]
    run.adversarial.recent = deque(saved["recent"], maxlen=run.adversarial.recent.maxlen)
    if saved["scaler"] is not None:
        run.grad_scaler.load_state_dict(saved["scaler"])


def record_iteration(run, kind: str | None = None) -> Recording:
    """Run one iteration of ``kind`` (default: the family's full iteration, phases[0]) with the probes, then put the
    run back exactly as it was. The caller holds the run between two training steps (Trainer.with_run)."""
    kind = kind or run.family.phases[0]
    if kind not in run.family.phases:
        raise ValueError(f"step kind must be one of {', '.join(run.family.phases)}; got {kind!r}")
    rec = Recording(kind=kind, step=run.step)
    saved = _save(run)
    devices = [run.device] if run.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), _Recorder(run, rec):
            scalars = run.family.train_step(kind)
        rec.scalars = {name: float(v) for name, v in scalars.items()}
    finally:
        _restore(run, saved)
    return rec
