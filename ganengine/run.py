"""GANRun: one run's models, optimisers, data and randomness, and the GAN training steps.

One iteration is ``d_steps`` discriminator updates, then one generator update (Goodfellow et al. 2014, Algorithm 1,
with k = d_steps). Each D update draws a fresh real batch x and noise z and minimises the loss's d(D(x), D(G(z)))
(+ penalties); the G update then minimises g(D(G(z))) with D frozen, on the fakes of the last D update (as the
PyTorch DCGAN example does: one G forward per iteration; a G-only step draws fresh noise). The reported numbers
follow that example too: D(x) and D(G(z)) "before" are D's mean output on the real and fake batches of the D
update, D(G(z)) "after" is D's mean output on the same fakes after D has moved.

Not thread-safe: exactly one thread (the Trainer's worker, or the caller) drives a GANRun. Scalars stay on the
device until ``gather``, so the hot path never waits on the GPU.
"""
from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ganengine.config import Knobs, RunConfig
from ganengine.data import build_source
from ganengine.device import pick_device
from ganengine.history import FrameHistory, MetricHistory, RestorePoints
from ganengine.losses import LOSSES, gradient_penalty, r1_penalty
from ganengine.models import build_models, is_conditional
from ganengine.render import image_grid, scatter_image

_BUILD_LOCK = threading.Lock()  # model init seeds the global RNG; two runs built at once must not interleave
STEP_COLUMNS = ("loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after", "grad_norm_g", "grad_norm_d")
FIELD_RESOLUTION = 64      # D's decision heatmap is FIELD_RESOLUTION^2 points over the data bounds
N_FIELD_POINTS = 512       # fixed-noise fakes (and real points) drawn in the 2-D view
N_HIST_BATCHES = 4         # D-output histograms use the last few D updates


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


class eval_mode:
    """Context: module.eval() inside, its previous mode restored after (so sampling never updates BN statistics)."""

    def __init__(self, module):
        self.module, self.was_training = module, module.training

    def __enter__(self):
        self.module.eval()
        return self.module

    def __exit__(self, *exc):
        self.module.train(self.was_training)


class GANRun:
    def __init__(self, *, config: RunConfig, knobs: Knobs):
        self.config, self.knobs = config, knobs
        self.device = pick_device(config.device)
        self.source = build_source(config, self.device)
        self.spec = self.source.spec
        with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            G, D = build_models(config, self.spec)
        self.G, self.D = G.to(self.device), D.to(self.device)
        self.conditional = is_conditional(self.G)
        # The parameter lists never change (restores copy into them), so the hot path walks cached lists, not modules.
        self.g_params, self.d_params = list(self.G.parameters()), list(self.D.parameters())
        # foreach Adam: one call per optimizer step instead of one per tensor (CUDA's default; on the CPU it saved
        # 10-15% of the optimizer's time on the small models, measured in bench/TUNING.md).
        foreach = True if self.device.type == "cpu" else None
        self.opt_g = torch.optim.Adam(self.g_params, lr=knobs.lr_g, betas=(knobs.beta1, knobs.beta2), foreach=foreach)
        self.opt_d = torch.optim.Adam(self.d_params, lr=knobs.lr_d, betas=(knobs.beta1, knobs.beta2), foreach=foreach)
        self.G_ema = self._new_ema() if knobs.ema_decay > 0 else None
        self.noise_gen = torch.Generator(device=self.device).manual_seed(config.seed + 2)
        self.fixed_z, self.fixed_y = self._fixed_noise()
        self.real_view = None if not self.spec.is_points else \
            self.source.real_sample(N_FIELD_POINTS, seed=config.seed + 4)[0].cpu().numpy()
        self.step = self.d_updates = self.g_updates = 0
        self.train_seconds = 0.0
        self.history = MetricHistory()
        self.frames = FrameHistory()
        self.restore_points = RestorePoints()
        self.events: deque = deque(maxlen=500)
        self._pending: list = []
        self._pending_steps: list = []
        self._recent_logits: deque = deque(maxlen=N_HIST_BATCHES)
        self._nan = torch.tensor(float("nan"), device=self.device)
        self._fake_for_g = None
        self._good_state: Optional[dict] = None
        self._good_step = -1
        self._apply_lr_schedule()

    # ---- noise -------------------------------------------------------------------------------------------------
    def _fixed_noise(self):
        """The same noise all run long (drawn on the CPU, so every device shows the same samples for a seed)."""
        g = torch.Generator().manual_seed(self.config.seed + 3)
        if self.spec.is_points:
            n = N_FIELD_POINTS
        elif self.conditional:
            n = 8 * self.spec.num_classes  # 8 rows, one column per class: a row is one z across all classes
        else:
            n = 64
        z = torch.randn(n, self.config.latent_dim, generator=g).to(self.device)
        y = (torch.arange(n) % self.spec.num_classes).to(self.device) if self.conditional else None
        return z, y

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, device=self.device, generator=self.noise_gen)

    def _fake_labels(self, n: int) -> Optional[torch.Tensor]:
        if not self.conditional:
            return None
        return torch.randint(self.spec.num_classes, (n,), device=self.device, generator=self.noise_gen)

    # ---- training ----------------------------------------------------------------------------------------------
    def _d_update(self, keep_fake: bool = False):
        """keep_fake: G's forward keeps its graph and the fakes are kept for the G update that follows."""
        k, pair = self.knobs, LOSSES[self.knobs.loss]
        real, y = self.source.sample(k.batch_size)
        y = y if self.conditional else None
        with torch.set_grad_enabled(keep_fake):
            fake = self.G(self.noise(len(real)), y)  # fakes carry the real batch's labels (cGAN)
        self._fake_for_g = (fake, y) if keep_fake else None
        fake = fake.detach()
        if k.r1_weight > 0:
            real.requires_grad_(True)
        l_r, l_f = self.D(real, y), self.D(fake, y)
        loss = pair.d(l_r, l_f, k.label_smoothing)
        if pair.gradient_penalty and k.gp_weight > 0:
            loss = loss + k.gp_weight * gradient_penalty(self.D, real.detach(), fake, y, self.noise_gen)
        if k.r1_weight > 0:
            loss = loss + 0.5 * k.r1_weight * r1_penalty(l_r, real)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = total_grad_norm(self.d_params)
        self.opt_d.step()
        self.d_updates += 1
        l_r, l_f = l_r.detach(), l_f.detach()
        self._recent_logits.append((l_r, l_f))
        return loss.detach(), torch.sigmoid(l_r).mean(), torch.sigmoid(l_f).mean(), grad_norm

    def _g_update(self):
        k, pair = self.knobs, LOSSES[self.knobs.loss]
        if self._fake_for_g is not None:
            fake, y = self._fake_for_g
            self._fake_for_g = None
        else:
            y = self._fake_labels(k.batch_size)
            fake = self.G(self.noise(k.batch_size), y)
        for p in self.d_params:  # G's loss needs no gradient for D's weights
            p.requires_grad_(False)
        try:
            l_f = self.D(fake, y)
            loss = pair.g(l_f)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            for p in self.d_params:
                p.requires_grad_(True)
        grad_norm = total_grad_norm(self.g_params)
        self.opt_g.step()
        self.g_updates += 1
        if self.G_ema is not None:
            self._update_ema()
        return loss.detach(), torch.sigmoid(l_f.detach()).mean(), grad_norm

    def train_iteration(self, kind: str = "both") -> None:
        """One iteration: "both" = d_steps D updates then a G update; "d" = one D update; "g" = one G update."""
        nan = self._nan
        loss_d = d_real = d_fake = gn_d = loss_g = d_fake_after = gn_g = nan
        if kind in ("both", "d"):
            n = self.knobs.d_steps if kind == "both" else 1
            for i in range(n):
                loss_d, d_real, d_fake, gn_d = self._d_update(keep_fake=kind == "both" and i == n - 1)
        if kind in ("both", "g"):
            loss_g, d_fake_after, gn_g = self._g_update()
        self._pending.append(torch.stack([loss_d, loss_g, d_real, d_fake, d_fake_after, gn_g, gn_d]).float())
        self.step += 1
        self._pending_steps.append(self.step)
        if self.knobs.lr_decay_steps:
            self._apply_lr_schedule()

    def gather(self, elapsed: float) -> Optional[np.ndarray]:
        """Move pending per-step scalars to the host (the one sync point) as full history rows; None if none.
        elapsed: training seconds since the previous gather, spread evenly over its steps."""
        if not self._pending:
            return None
        values = torch.stack(self._pending).cpu().numpy().astype(np.float64)  # (n, 7)
        steps = np.asarray(self._pending_steps, dtype=np.float64)
        n = len(values)
        self._pending.clear()
        self._pending_steps.clear()
        times = self.train_seconds + elapsed * np.arange(1, n + 1) / n
        self.train_seconds += elapsed
        rate = n / elapsed if elapsed > 0 else np.nan
        lr_g, lr_d = self.opt_g.param_groups[0]["lr"], self.opt_d.param_groups[0]["lr"]
        columns = {"step": steps, "time": times, "steps_per_sec": np.full(n, rate), "lr_g": np.full(n, lr_g),
                   "lr_d": np.full(n, lr_d), **{c: values[:, i] for i, c in enumerate(STEP_COLUMNS)}}
        return np.stack([columns[c] for c in self.history.columns], axis=1)

    # ---- live settings -----------------------------------------------------------------------------------------
    def lr_scale(self) -> float:
        k = self.knobs
        if not k.lr_decay_steps:
            return 1.0
        return 1.0 - (1.0 - k.lr_floor) * min(1.0, self.step / k.lr_decay_steps)

    def _apply_lr_schedule(self) -> None:
        s = self.lr_scale()
        for opt, lr in ((self.opt_g, self.knobs.lr_g), (self.opt_d, self.knobs.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * s
                group["betas"] = (self.knobs.beta1, self.knobs.beta2)

    def apply_knobs(self, knobs: Knobs) -> list:
        """Switch to new live settings (already validated); return one Event per changed field."""
        old, self.knobs = self.knobs, knobs
        events = [Event(self.step, name, f"{name} {_fmt(getattr(old, name))} -> {_fmt(value)}")
                  for name, value in knobs.to_dict().items() if getattr(old, name) != value]
        if knobs.ema_decay > 0 and self.G_ema is None:
            self.G_ema = self._new_ema()
        elif knobs.ema_decay == 0:
            self.G_ema = None
        self._apply_lr_schedule()
        self.events.extend(events)
        return events

    def add_event(self, kind: str, text: str) -> Event:
        event = Event(self.step, kind, text)
        self.events.append(event)
        return event

    # ---- EMA of G --------------------------------------------------------------------------------------------
    def _new_ema(self):
        self._ema_updates = 0
        ema = copy.deepcopy(self.G).eval()
        ema.requires_grad_(False)
        self._ema_params = list(ema.parameters())
        self._ema_buffers = list(zip(ema.buffers(), self.G.buffers()))
        return ema

    @torch.no_grad()
    def _update_ema(self) -> None:
        """theta_ema <- d * theta_ema + (1 - d) * theta, with the warm-up d = min(decay, (1 + t) / (10 + t)) over the
        t updates since EMA was switched on (as TensorFlow's ExponentialMovingAverage with num_updates), so a short
        run's average is not dominated by its first, random weights. Buffers (BN statistics) are copied."""
        t = self._ema_updates = self._ema_updates + 1
        decay = min(self.knobs.ema_decay, (1.0 + t) / (10.0 + t))
        torch._foreach_lerp_(self._ema_params, self.g_params, 1.0 - decay)
        for b_ema, b in self._ema_buffers:
            b_ema.copy_(b)

    def sampler(self) -> torch.nn.Module:
        """The generator to draw samples from: the EMA copy when EMA is on, else G."""
        return self.G_ema if self.G_ema is not None else self.G

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Samples in data space for latents z (B, latent) (and labels y for cGAN), in eval mode."""
        G = self.sampler()
        if self.conditional and y is None:
            y = torch.zeros(len(z), dtype=torch.int64, device=self.device)
        with eval_mode(G):
            return G(z.to(self.device), y if self.conditional else None)

    # ---- visuals (called every sample_every steps on the training thread) ----------------------------------------
    def render_visuals(self) -> dict:
        """The fixed-noise view at this step: an image grid, or the 2-D field; plus D-output histograms."""
        out = {"step": self.step, "d_hist": self._d_histograms()}
        if self.spec.is_points:
            out["field"] = self._field()
            frame = scatter_image(self.real_view, out["field"]["fake"], self.spec.bounds)
        else:
            fake = self.generate(self.fixed_z, self.fixed_y).float().cpu().numpy()
            frame = image_grid(fake, nrow=self.spec.num_classes if self.conditional else 8)
        out["grid"] = frame
        self.frames.append(self.step, frame)
        self._keep_restore_point()
        return out

    def _keep_restore_point(self) -> None:
        """A CPU copy of the full training state at this frame's step, so the run can rewind to it."""
        state = _to_cpu(self.training_state())
        nbytes = sum(t.numel() * t.element_size() for t in _tensors(state))
        self.restore_points.add(self.step, {"state": state, "counters": self._counters()}, nbytes)

    def _counters(self) -> dict:
        return {"step": self.step, "d_updates": self.d_updates, "g_updates": self.g_updates,
                "train_seconds": self.train_seconds}

    def rewind(self, step: int) -> int:
        """Go back to the latest restore point at or before ``step``: weights, optimisers, RNG, counters; the later
        history and frames are dropped. Returns the step it went back to. Raises ValueError if there is none."""
        point = self.restore_points.at_or_before(step)
        if point is None:
            raise ValueError(f"no restore point at or before step {step}")
        self._restore(copy.deepcopy(point[1]["state"]), point[1]["counters"])
        return self.step

    def _d_histograms(self) -> dict:
        if not self._recent_logits:
            return {}
        l_r = torch.cat([r for r, _ in self._recent_logits])
        l_f = torch.cat([f for _, f in self._recent_logits])
        return {"real": torch.sigmoid(l_r).float().cpu().numpy(), "fake": torch.sigmoid(l_f).float().cpu().numpy()}

    def _field(self) -> dict:
        """2-D view: fakes from the fixed noise, D(x) on a grid, and the direction G's loss pushes each fake."""
        xmin, xmax, ymin, ymax = self.spec.bounds
        r = FIELD_RESOLUTION
        xs, ys = torch.linspace(xmin, xmax, r), torch.linspace(ymin, ymax, r)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2).to(self.device)  # (r*r, 2)
        fake = self.generate(self.fixed_z)
        with eval_mode(self.D):
            with torch.no_grad():
                heat = torch.sigmoid(self.D(grid)).reshape(r, r)  # (rows = y, cols = x)
            x = fake.detach().clone().requires_grad_(True)
            g_loss = LOSSES[self.knobs.loss].g(self.D(x)) * len(x)  # per-point loss terms, not their mean
            (grad,) = torch.autograd.grad(g_loss, x)
        return {"fake": fake.float().cpu().numpy(), "real": self.real_view, "heat": heat.float().cpu().numpy(),
                "push": (-grad).float().cpu().numpy(), "xs": xs.numpy(), "ys": ys.numpy()}

    # ---- divergence guard --------------------------------------------------------------------------------------
    def non_finite(self, rows: Optional[np.ndarray]) -> Optional[str]:
        """Why this run can't go on (a non-finite loss or weight), or None if all is finite."""
        if rows is not None:
            cols = self.history.index
            for name in ("loss_d", "loss_g"):
                v = rows[:, cols[name]]
                if np.isinf(v).any() or (np.isnan(v) & ~self._partial_mask(rows, name)).any():
                    return f"{name} became {'NaN' if np.isnan(v).any() else 'infinite'}"
        for label, model in (("G", self.G), ("D", self.D)):
            flags = torch.stack([p.isfinite().all() for p in model.parameters()])
            if not bool(flags.all()):
                return f"{label}'s weights became non-finite"
        return None

    def _partial_mask(self, rows, name) -> np.ndarray:
        """Rows where ``name`` was not computed (a D-only or G-only step leaves the other player's loss NaN)."""
        other = "d_real" if name == "loss_d" else "d_fake_after"
        return np.isnan(rows[:, self.history.index[other]])

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
        self.load_training_state(state)
        self.step, self.d_updates, self.g_updates = counters["step"], counters["d_updates"], counters["g_updates"]
        self.train_seconds = counters["train_seconds"]
        self._pending.clear()
        self._pending_steps.clear()
        self._recent_logits.clear()
        self._fake_for_g = None
        self.history.truncate_after(self.step)
        self.frames.truncate_after(self.step)
        self.restore_points.truncate_after(self.step)
        self._apply_lr_schedule()

    # ---- state (checkpoints, rollback) ------------------------------------------------------------------------
    def training_state(self) -> dict:
        """Weights, optimiser states and RNG states: tensors and plain values only (weights_only-loadable)."""
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "rng": {"noise": self.noise_gen.get_state(), "data": self.source.get_state()},
        }

    def load_training_state(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if state.get("G_ema") is not None:
            self.G_ema = self._new_ema()
            self.G_ema.load_state_dict(state["G_ema"])
        else:
            self.G_ema = self._new_ema() if self.knobs.ema_decay > 0 else None
        foreach = self.opt_g.param_groups[0]["foreach"]  # a checkpoint's own choice must not undo this device's
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for group in self.opt_g.param_groups + self.opt_d.param_groups:
            group["foreach"] = foreach
        self.noise_gen.set_state(state["rng"]["noise"])
        self.source.set_state(state["rng"]["data"])
        self._apply_lr_schedule()


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


def _to_cpu(obj):
    """A deep copy of a nested state with every tensor cloned to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_to_cpu(v) for v in obj)
    return copy.deepcopy(obj)


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
