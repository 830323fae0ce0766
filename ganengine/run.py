"""GANRun: what every GAN family shares; the family (ganengine.families) says what its training step does.

The run owns: the device, the data source, the nets' optimiser groups ("G" trains with lr_g, "D" with lr_d, Adam
with the betas knobs and the linear lr decay), the EMA copies of the sampling nets (with their warm-up counter),
the run's noise stream and seeds, named scalars and their bounded history, timeline frames and restore points
(rewind), the divergence guard (rollback) and the training state that checkpoints and restores carry. The family
owns its nets' architecture, its data kind, its phases, its scalars, its views, its metrics and any extra state.

Per step: family.train_step(kind) runs its updates through ``update(group, loss)`` (zero grad, backward, then
apply_gradients: norm, Adam, EMA) and returns its scalars as 0-d device tensors, stacked in the family's order and
left on the device until ``gather`` (the one host sync), so the hot path never waits on the GPU.

Not thread-safe: exactly one thread (the Trainer's worker, or the caller) drives a GANRun.
"""
from __future__ import annotations

import copy
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ganengine.adversarial import Adversarial
from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.device import pick_device
from ganengine.families import build_nets, family_class
from ganengine.history import FrameHistory, MetricHistory, RestorePoints, metric_columns
from ganengine.lean_adam import make_adam
from ganengine.nested_state import tensors_in, to_cpu
from ganengine.seeds import NOISE, stream

_BUILD_LOCK = threading.Lock()  # model init seeds the global RNG; two runs built at once must not interleave


@dataclass(frozen=True)
class Event:
    """Something that happened at a step: a setting changed, a rollback, a rebuild. Plots mark these."""
    step: int
    kind: str     # e.g. "lr_g", "loss", "rollback", "limit"
    text: str     # e.g. "lr_g 0.0002 -> 0.001"


def total_grad_norm(params) -> torch.Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


class GANRun:
    def __init__(self, *, config: RunConfig, knobs: Knobs):
        family_cls = family_class(config.family)
        self._family_cls = family_cls
        self.config, self.knobs = config, knobs.for_family(family_cls)
        self.device = pick_device(config.device)
        self.source = family_cls.build_source(config, self.device)
        self.spec = self.source.spec
        with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            nets = build_nets(family_cls, config, self.spec)  # refused above the parameter cap
        self.nets = {name: net.to(self.device) for name, net in nets.items()}
        # The parameter lists never change (restores copy into them), so the hot path walks cached lists, not modules.
        self.params = {group: [p for n in names for p in self.nets[n].parameters()]
                       for group, names in family_cls.groups.items()}
        # On the CPU, Adam's fused kernel stepped without the Optimizer's per-call Python (ganengine.lean_adam;
        # bench/RESULTS.md: the 2-D presets' step rate); elsewhere torch's Adam with its default kernel.
        lr = {"G": self.knobs.lr_g, "D": self.knobs.lr_d}
        self.opt = {group: make_adam(params, lr=lr[group], betas=(self.knobs.beta1, self.knobs.beta2),
                                     device=self.device) for group, params in self.params.items()}
        self._ema_groups = {g for g, names in family_cls.groups.items() if set(names) & set(family_cls.sampling)}
        self.ema: dict = {}
        self._ema_updates = 0
        if self.knobs.ema_decay > 0:
            self._new_ema()
        self.noise_gen = torch.Generator(device=self.device).manual_seed(stream(config.seed, NOISE))
        self.adversarial = Adversarial()
        self.step = 0
        self.updates = {group: 0 for group in self.opt}
        self.train_seconds = 0.0
        self.family = family_cls(self)
        self._names = family_cls.scalars
        self.history = MetricHistory(columns=metric_columns(self._names))
        self.frames = FrameHistory()
        self.timeline_epoch = 0
        self.restore_points = RestorePoints()
        self.events: deque = deque(maxlen=500)
        self._pending: list = []
        self._pending_steps: list = []
        self._nan = torch.tensor(float("nan"), device=self.device)
        self._good_state: Optional[dict] = None
        self._good_step = -1
        from ganengine.precision import attach as attach_precision
        self.precision = attach_precision(self)  # the GPU path's settings: AMP, channels_last, compile (CPU: none)
        self._apply_lr_schedule()

    # ---- the gan family's names for the usual two players (every family has a G and a D group) ----------------
    G = property(lambda self: self.nets["G"])
    D = property(lambda self: self.nets["D"])
    opt_g = property(lambda self: self.opt["G"])
    opt_d = property(lambda self: self.opt["D"])
    g_params = property(lambda self: self.params["G"])
    d_params = property(lambda self: self.params["D"])
    d_updates = property(lambda self: self.updates.get("D", 0))
    g_updates = property(lambda self: self.updates.get("G", 0))

    # ---- training ----------------------------------------------------------------------------------------------
    def update(self, group: str, loss: torch.Tensor) -> torch.Tensor:
        """One optimiser step of a group on a loss: zero its gradients, backpropagate, apply_gradients."""
        self.opt[group].zero_grad(set_to_none=True)
        loss.backward()
        return self.apply_gradients(group)

    def apply_gradients(self, group: str) -> torch.Tensor:
        """p.grad filled (update's backward, or fast_mlp_step): the grad norm (returned), Adam's step, then the EMA."""
        grad_norm = total_grad_norm(self.params[group])   # ||grad||_2 over the group's weights, before the step
        self.opt[group].step()
        self.updates[group] += 1
        if self.ema and group in self._ema_groups:
            self._update_ema()
        return grad_norm

    @contextmanager
    def frozen(self, group: str):
        """No gradients for a group's weights inside (G's loss needs none for D's), restored after."""
        params = self.params[group]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)

    def train_iteration(self, kind: str = "both") -> None:
        """One step of a phase of the family (family.phases: e.g. both, d, g); its scalars wait for gather()."""
        if kind not in self.family.phases:
            raise ConfigError(f"step kind must be one of {', '.join(self.family.phases)}; got {kind!r}")
        scalars = self.family.train_step(kind)
        nan = self._nan
        self._pending.append(torch.stack([scalars.get(n, nan) for n in self._names]).float())
        self.step += 1
        self._pending_steps.append(self.step)
        if self.knobs.lr_decay_steps:
            self._apply_lr_schedule()

    def gather(self, elapsed: float) -> Optional[np.ndarray]:
        """Move pending per-step scalars to the host (the one sync point) as full history rows; None if none.
        elapsed: training seconds since the previous gather, spread evenly over its steps."""
        if not self._pending:
            return None
        values = torch.stack(self._pending).cpu().numpy().astype(np.float64)  # (n, len(scalars))
        steps = np.asarray(self._pending_steps, dtype=np.float64)
        n = len(values)
        self._pending.clear()
        self._pending_steps.clear()
        times = self.train_seconds + elapsed * np.arange(1, n + 1) / n
        self.train_seconds += elapsed
        rate = n / elapsed if elapsed > 0 else np.nan
        lr_g, lr_d = self.opt["G"].param_groups[0]["lr"], self.opt["D"].param_groups[0]["lr"]
        columns = {"step": steps, "time": times, "steps_per_sec": np.full(n, rate), "lr_g": np.full(n, lr_g),
                   "lr_d": np.full(n, lr_d), **{c: values[:, i] for i, c in enumerate(self._names)}}
        return np.stack([columns[c] for c in self.history.columns], axis=1)

    # ---- live settings -----------------------------------------------------------------------------------------
    def lr_scale(self) -> float:
        k = self.knobs
        if not k.lr_decay_steps:
            return 1.0
        return 1.0 - (1.0 - k.lr_floor) * min(1.0, self.step / k.lr_decay_steps)

    def _apply_lr_schedule(self) -> None:
        s = self.lr_scale()
        for group, opt in self.opt.items():
            lr = self.knobs.lr_g if group == "G" else self.knobs.lr_d
            for param_group in opt.param_groups:
                param_group["lr"] = lr * s
                param_group["betas"] = (float(self.knobs.beta1), float(self.knobs.beta2))   # ints: see make_adam

    def apply_knobs(self, knobs: Knobs) -> list:
        """Switch to new live settings (already validated); return one Event per changed field."""
        old, self.knobs = self.knobs, knobs.for_family(type(self.family))
        before = old.to_dict()
        events = [Event(self.step, name, f"{name} {_fmt(before[name])} -> {_fmt(value)}")
                  for name, value in self.knobs.to_dict().items() if before.get(name) != value]
        if knobs.ema_decay > 0 and not self.ema:
            self._new_ema()
        elif knobs.ema_decay == 0:
            self.ema = {}
        self._apply_lr_schedule()
        self.events.extend(events)
        return events

    def add_event(self, kind: str, text: str) -> Event:
        event = Event(self.step, kind, text)
        self.events.append(event)
        return event

    # ---- EMA of the sampling nets -----------------------------------------------------------------------------
    def _new_ema(self) -> None:
        """Fresh EMA copies of the sampling nets; the warm-up counts from here (EMA switched on now)."""
        self._ema_updates = 0
        self.ema = {}
        for name in self._family_cls.sampling:
            ema = copy.deepcopy(self.nets[name]).eval()
            ema.requires_grad_(False)
            self.ema[name] = ema
        self._ema_pairs = [(list(self.ema[n].parameters()), list(self.nets[n].parameters()),
                            list(zip(self.ema[n].buffers(), self.nets[n].buffers()))) for n in self.ema]

    @torch.no_grad()
    def _update_ema(self) -> None:
        """theta_ema <- d * theta_ema + (1 - d) * theta, with the warm-up d = min(decay, (1 + t) / (10 + t)) over the
        t updates since EMA was switched on (as TensorFlow's ExponentialMovingAverage with num_updates), so a short
        run's average is not dominated by its first, random weights. Buffers (BN statistics) are copied. t is in the
        training state (rewind, rollback and checkpoints restore it)."""
        t = self._ema_updates = self._ema_updates + 1
        decay = min(self.knobs.ema_decay, (1.0 + t) / (10.0 + t))
        for ema_params, params, buffers in self._ema_pairs:
            torch._foreach_lerp_(ema_params, params, 1.0 - decay)
            for b_ema, b in buffers:
                b_ema.copy_(b)

    def sampler(self, name: Optional[str] = None) -> torch.nn.Module:
        """The net to sample from (default: the family's first sampling net): its EMA copy when EMA is on."""
        name = name or self.family.sampling[0]
        return self.ema.get(name, self.nets[name])

    # ---- visuals (taken every sample_every steps on the training thread, drawn there or on another thread) --------
    def render_visuals(self) -> dict:
        """The family's views at this step, drawn now, and its frame added to the timeline (see visuals_job)."""
        visuals = self.visuals_job()()
        self.add_frame(visuals)
        return visuals

    def visuals_job(self, timeline: bool = True):
        """Between two training steps: keep this step's restore point and take what drawing the views needs (the
        family's render_job: frozen copies of its nets), and return a function that draws them, wherever it runs.
        It returns the views by name (views[0], also under "frame", is the timeline frame), the D-output
        histograms ("d_hist"), the names of the views ("views"), their captions ("captions"), "step", and the
        timeline epoch it belongs to. A family without a render_job draws here, on the calling thread.
        timeline=False: views to show only, no timeline frame or restore point (a paced run draws every step; one of
        each per step thinned the early ones away, so a rewind to step 199 went to step 1)."""
        step, epoch, views = self.step, self.timeline_epoch, self.family.views
        head = {"step": step, "d_hist": self.adversarial.histograms(), "views": views, "epoch": epoch,
                "captions": {view: self.family.caption(view) for view in views}, "timeline": timeline}
        if timeline:
            self._keep_restore_point()
        draw = self.family.render_job()
        if draw is None:
            drawn = self.family.render()
            draw = lambda: drawn  # noqa: E731

        def job() -> dict:
            out = {**head, **draw()}
            out["frame"] = out[views[0]]
            return out
        return job

    def add_frame(self, visuals: dict) -> bool:
        """Add drawn visuals' frame to the timeline, unless the run went back (rewind, rollback) since they were
        taken; between two training steps. Returns whether it was added."""
        newest = self.frames.steps[-1] if self.frames.steps else -1
        if visuals["epoch"] != self.timeline_epoch or not newest <= visuals["step"] <= self.step:
            return False
        if visuals.get("timeline", True):    # a paced run's in-between steps are shown, not kept (visuals_job)
            self.frames.append(visuals["step"], visuals["frame"])
        return True

    def _keep_restore_point(self) -> None:
        """A CPU copy of the full training state at this frame's step, so the run can rewind to it."""
        state = to_cpu(self.training_state())
        nbytes = sum(t.numel() * t.element_size() for t in tensors_in(state))
        self.restore_points.add(self.step, {"state": state, "counters": self._counters(),
                                            "knobs": self.knobs}, nbytes)   # the knobs: for a branch (ganengine.branch)

    def _counters(self) -> dict:
        return {"step": self.step, "updates": dict(self.updates), "train_seconds": self.train_seconds}

    def rewind(self, step: int) -> int:
        """Go back to the latest restore point at or before ``step``: weights, EMA, optimisers, RNG, counters, the
        family's extra state; the later history and frames are dropped. Returns the step it went back to. Raises
        ValueError if there is none."""
        point = self.restore_points.at_or_before(step)
        if point is None:
            raise ValueError(f"no restore point at or before step {step}")
        self._restore(copy.deepcopy(point[1]["state"]), point[1]["counters"])
        return self.step

    # ---- divergence guard --------------------------------------------------------------------------------------
    def non_finite(self, rows: Optional[np.ndarray]) -> Optional[str]:
        """Why this run can't go on (a non-finite loss or weight), or None if all is finite. A loss counts only at
        steps that computed it (family.guarded: a D-only step leaves G's loss NaN)."""
        if rows is not None:
            cols = self.history.index
            for name, witness in self.family.guarded.items():
                v = rows[:, cols[name]]
                if np.isinf(v).any() or (np.isnan(v) & ~np.isnan(rows[:, cols[witness]])).any():
                    return f"{name} became {'NaN' if np.isnan(v).any() else 'infinite'}"
        for name, model in self.nets.items():
            flags = torch.stack([p.isfinite().all() for p in model.parameters()])
            if not bool(flags.all()):
                return f"{name}'s weights became non-finite"
        return None

    def remember_good(self) -> None:
        """Keep a copy of everything a rollback restores (called after a finite check)."""
        self._good_state = {"state": copy.deepcopy(self.training_state()), "counters": self._counters()}
        self._good_step = self.step

    def rollback(self) -> int:
        """Restore the last good state; return its step."""
        good = self._good_state
        if good is None:
            raise RuntimeError("no good state to roll back to")
        self._restore(copy.deepcopy(good["state"]), good["counters"])
        return self.step

    def _restore(self, state: dict, counters: dict) -> None:
        self.timeline_epoch += 1  # visuals taken before this belong to a timeline that no longer exists
        self.load_training_state(state)
        self.set_counters(counters["step"], counters["updates"], counters["train_seconds"])
        self.history.truncate_after(self.step)
        self.frames.truncate_after(self.step)
        self.restore_points.truncate_after(self.step)

    def set_counters(self, step: int, updates: dict, train_seconds: float) -> None:
        self.step, self.train_seconds = int(step), float(train_seconds)
        self.updates = {group: int(updates.get(group, 0)) for group in self.opt}
        self._pending.clear()
        self._pending_steps.clear()
        self.adversarial.clear()
        self.family.forget_transient()
        self._apply_lr_schedule()

    # ---- state (checkpoints, rollback, rewind) ----------------------------------------------------------------
    def training_state(self) -> dict:
        """Weights, EMA copies and their warm-up count, optimiser states, RNG states and the family's extra
        state: tensors and plain values only (weights_only-loadable)."""
        return {
            "nets": {name: net.state_dict() for name, net in self.nets.items()},
            "ema": {name: net.state_dict() for name, net in self.ema.items()},
            "ema_updates": self._ema_updates,
            "opt": {group: opt.state_dict() for group, opt in self.opt.items()},
            "rng": {"noise": self.noise_gen.get_state(), "data": self.source.get_state()},
            "extra": self.family.extra_state(),
        }

    def load_training_state(self, state: dict) -> None:
        for name, net in self.nets.items():
            net.load_state_dict(state["nets"][name])
        if state.get("ema"):
            self._new_ema()
            for name, net in self.ema.items():
                net.load_state_dict(state["ema"][name])
            self._ema_updates = int(state.get("ema_updates", 0))
        elif self.knobs.ema_decay > 0:
            self._new_ema()
        else:
            self.ema = {}
        for group, opt in self.opt.items():
            if group not in state.get("opt", {}):
                continue  # a checkpoint without optimiser state (a sampler-only file) keeps fresh Adam moments
            foreach = opt.param_groups[0]["foreach"]  # a checkpoint's own choice must not undo this device's
            opt.load_state_dict(state["opt"][group])
            for param_group in opt.param_groups:
                param_group["foreach"] = foreach
        self.noise_gen.set_state(state["rng"]["noise"])
        self.source.set_state(state["rng"]["data"])
        self.family.load_extra_state(state.get("extra") or {})
        self._apply_lr_schedule()


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
