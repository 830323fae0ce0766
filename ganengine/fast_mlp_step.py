"""A hand-written, autograd-free training iteration for the gan family's point MLPs (the 2-D presets; issue 16).

Why: the 2-D presets (an MLP 2 x 64 or 3 x 64, batch 256) are bound by Python, not arithmetic: each step is a few
hundred tiny tensor ops, and autograd's graph, R1's double backward and the optimiser calls cost more than the
matmuls. Here one iteration is written out as plain matmuls with each layer's backward by hand, into preallocated
gradient buffers, so no graph is built; Adam, the gradient norm and the EMA are the run's own (bench/RESULTS.md
section 6 has the measured rates).

Nets (ganengine.models.mlp): D has n hidden layers a_i = h_{i-1} W_i^T + b_i, h_i = lrelu(a_i) (slope 0.2 below 0),
h_0 = x, and the logit l = h_n w^T + c. G is the same with ReLU and a 2-D linear output.

D's loss (ganengine.adversarial) is L_D = d(l_r, l_f; s) + gamma/2 E_x ||grad_x D(x)||^2, the R1 penalty of
Mescheder et al. 2018 ("Which Training Methods for GANs do actually Converge?", section 4.1, eq. 9). For this
piecewise-linear D the input gradient has a closed form, a product of forward quantities:

  grad_x l = W_1^T (m_1 * W_2^T (m_2 * ... W_n^T (m_n * w^T)))      m_i = lrelu'(a_i) in {1, 0.2}

written here as c_n = m_n * w, c_{i-1} = m_{i-1} * (c_i W_i), grad_x l = c_1 W_1 (rows = samples). m_i is constant
almost everywhere (lrelu'' = 0 off the kink), so the gradient of R1 = E ||c_1 W_1||^2 with respect to the weights
needs one ordinary backward through that chain, with the masks held fixed: the same number autograd's double backward
gives (grad_grad of leaky_relu_backward in its input is 0), up to fp32 rounding (tests/test_fast_mlp_step.py checks
it). R1 gives no gradient to the biases. The losses' derivatives in the logits (d_l = dL/dl per sample):

  bce (minimax, ns):  d_lr = (sigmoid(l_r) - (1 - s)) / 2B,  d_lf = sigmoid(l_f) / 2B
  lsgan:              d_lr = (l_r - (1 - s)) / B,           d_lf = l_f / B
  hinge:              d_lr = -[l_r < 1] / B,                d_lf = [l_f > -1] / B
  G: minimax -sigmoid(l_f) / B, ns -sigmoid(-l_f) / B, lsgan (l_f - 1) / B, score -1 / B.

Backward of a linear layer y = h W^T + b with dy: dW = dy^T h, db = sum_rows dy, dh = dy W (Rumelhart et al. 1986).

The order of work and of random draws is the family's (ganengine.families.gan): per D update a real batch, then G's
noise, G(z), D on real and fake (here one forward of the stacked 2B rows); the G update reuses the last D update's
fakes. Where it applies (the point MLPs, a loss of the table, fp32, GAN_FAST_STEP not 0) the gan family trains
through it; anything else (wgan-gp's penalty, mixed precision, image models) goes through autograd as before.
Setting: GAN_FAST_STEP = auto (default: on where it applies) or 0 (off, autograd everywhere), read when a run is built.
The numbers differ from the autograd path's in the last bits (another summation order), so the preset trace guard
(tests/test_preset_trace.py) records with it off; replay is exact within the fast path (rewind, resume). Slow motion
(ganengine.slow_motion) probes the step with hooks, so an iteration it records goes through autograd: its numbers
equal the fast step that follows to fp32 rounding, not bit for bit (tests/test_slow_motion.py).
"""
from __future__ import annotations

import os
from typing import Optional

import torch
from torch import nn

from ganengine.config import ConfigError
from ganengine.losses import LOSSES, bce_d, hinge_d, lsgan_d, lsgan_g, minimax_g, ns_g, score_g
from ganengine.models.mlp import PointDiscriminator, PointGenerator

SLOPE = 0.2                      # PointDiscriminator's LeakyReLU slope
_lrelu_bw = torch.ops.aten.leaky_relu_backward.default
_relu_bw = torch.ops.aten.threshold_backward.default


# ---- the losses' derivatives in the logits (mean over the batch folded in) --------------------------------------
def _bce_d_grad(l_r, l_f, s):
    B = len(l_r)
    return (torch.sigmoid(l_r) - (1.0 - s)) / (2 * B), torch.sigmoid(l_f) / (2 * B)


def _lsgan_d_grad(l_r, l_f, s):
    B = len(l_r)
    return (l_r - (1.0 - s)) / B, l_f / B


def _hinge_d_grad(l_r, l_f, s):
    B = len(l_r)
    return (l_r < 1).to(l_r.dtype).neg_().div_(B), (l_f > -1).to(l_f.dtype).div_(B)


D_GRADS = {bce_d: _bce_d_grad, lsgan_d: _lsgan_d_grad, hinge_d: _hinge_d_grad}
G_GRADS = {minimax_g: lambda l: torch.sigmoid(l).neg_().div_(len(l)),
           ns_g: lambda l: torch.sigmoid(-l).neg_().div_(len(l)),
           lsgan_g: lambda l: (l - 1.0) / len(l),
           score_g: lambda l: torch.full_like(l, -1.0 / len(l))}


def enabled() -> bool:
    """GAN_FAST_STEP: auto (or unset) = on where it applies, 0 = off."""
    raw = os.environ.get("GAN_FAST_STEP", "auto").strip().lower() or "auto"
    if raw not in ("auto", "0", "1"):
        raise ConfigError(f"GAN_FAST_STEP must be auto, 0 or 1; got {raw!r}")
    return raw != "0"


def fast_step_for(family) -> Optional["FastPointStep"]:
    """The fast step for a gan-family run of the point MLPs when the setting allows it, else None."""
    nets = family.run.nets
    if not enabled() or type(nets["G"]) is not PointGenerator or type(nets["D"]) is not PointDiscriminator:
        return None
    return FastPointStep(family)


def _linears(net: nn.Module) -> list:
    return [(m.weight, m.bias) for m in net.net if isinstance(m, nn.Linear)]


class FastPointStep:
    def __init__(self, family):
        self.family, self.run = family, family.run
        self._G, self._D = self.run.nets["G"], self.run.nets["D"]
        self.g_layers = _linears(self.run.nets["G"])    # [(W (out, in), b (out,))], the last one is the output
        self.d_layers = _linears(self.run.nets["D"])
        self._grads = {id(p): torch.zeros_like(p) for p in self.run.params["G"] + self.run.params["D"]}

    def applies(self) -> bool:
        """Whether this iteration may take the fast path (the knobs are live: checked every step)."""
        k, run = self.run.knobs, self.run
        pair = LOSSES[k.loss]
        precision = getattr(run, "precision", None)
        plain = precision is None or (precision.dtype is None and not precision.compile)
        # Probes on the step (ganengine.slow_motion: forward hooks on the nets, a wrapped run.update) need autograd's.
        watched = self._G._forward_hooks or self._D._forward_hooks or "update" in vars(run)
        return plain and not watched and pair.d in D_GRADS and pair.g in G_GRADS and not (pair.gradient_penalty and k.gp_weight > 0)

    # ---- one iteration, as GANFamily.train_step ----------------------------------------------------------------
    @torch.no_grad()
    def train_step(self, kind: str) -> dict:
        out, fake = {}, None
        if kind != "g":
            n = self.run.knobs.d_steps if kind == "both" else 1
            for _ in range(n):
                fake = self._d_update(out)                          # G's forward of the last D update is kept
        if kind != "d":
            if fake is None:                                        # a G-only step: fresh noise
                fake = self._g_forward(self.family.noise(self.run.knobs.batch_size))
            self._g_update(out, fake)
        return out

    def _grad(self, p: torch.Tensor) -> torch.Tensor:
        buf = self._grads[id(p)]
        p.grad = buf                                                # Adam and the norm read p.grad
        return buf

    def _g_forward(self, z: torch.Tensor) -> tuple:
        """G(z) keeping each layer's input h and pre-activation a: (fake (B, 2), [h_0..h_n], [a_1..a_n])."""
        hs, acts, h = [z], [], z                                   # z: (B, latent)
        for W, b in self.g_layers[:-1]:
            a = torch.addmm(b, h, W.t())                            # a_i = h_{i-1} W_i^T + b_i: (B, width)
            h = torch.relu(a)
            acts.append(a)
            hs.append(h)
        W, b = self.g_layers[-1]
        return torch.addmm(b, h, W.t()), hs, acts                   # (B, 2)

    def _d_forward(self, x: torch.Tensor) -> tuple:
        """D(x) keeping each layer's input and pre-activation: (logits (N,), [h_0..h_n], [a_1..a_n])."""
        hs, acts, h = [x], [], x
        for W, b in self.d_layers[:-1]:
            a = torch.addmm(b, h, W.t())                            # (N, width)
            h = torch.nn.functional.leaky_relu(a, SLOPE)
            acts.append(a)
            hs.append(h)
        w, c = self.d_layers[-1]
        return torch.addmm(c, h, w.t()).squeeze(1), hs, acts       # (N, 1) -> (N,)

    def _d_input_grad(self, dl: torch.Tensor, acts: list) -> torch.Tensor:
        """dL/dx of D for dL/dl (N,), D's weights held: the chain dh = dy W through the lrelu slopes."""
        w, _ = self.d_layers[-1]
        dh = dl.unsqueeze(1) * w                                    # (N, 1) * (1, width) -> (N, width)
        for (W, _), a in zip(reversed(self.d_layers[:-1]), reversed(acts)):
            dh = _lrelu_bw(dh, a, SLOPE, False).mm(W)               # through lrelu, then a = h W^T + b: dh = da W
        return dh                                                   # (N, 2)

    # ---- D --------------------------------------------------------------------------------------------------
    def _d_update(self, out: dict):
        run, fam, k = self.run, self.family, self.run.knobs
        real, _ = run.source.sample(k.batch_size)                  # x ~ p_data: (B, 2)
        B = len(real)
        fake = self._g_forward(fam.noise(B))                        # G(z) and what G's backward needs
        x = torch.cat([real, fake[0]])                              # (2B, 2): real rows, then fake rows
        logits, hs, acts = self._d_forward(x)
        l_r, l_f = logits[:B], logits[B:]
        pair = LOSSES[k.loss]
        loss = pair.d(l_r, l_f, k.label_smoothing)                  # d(l_r, l_f; s), as the autograd path
        d_r, d_f = D_GRADS[pair.d](l_r, l_f, k.label_smoothing)     # dL/dl per sample, (B,) each
        dl = torch.cat([d_r, d_f]).unsqueeze(1)                     # (2B, 1)
        # Backward of the loss through D: the output layer, then each hidden layer from the top.
        (w, c), layers = self.d_layers[-1], self.d_layers[:-1]
        torch.mm(dl.t(), hs[-1], out=self._grad(w))                 # dw = dl^T h_n: (1, width)
        torch.sum(dl, 0, out=self._grad(c))                         # dc = sum of dl: (1,)
        dh = dl * w                                                 # dh_n = dl w: (2B, width)
        for i in range(len(layers) - 1, -1, -1):
            W, b = layers[i]
            da = _lrelu_bw(dh, acts[i], SLOPE, False)               # da_i = lrelu'(a_i) * dh_i
            torch.mm(da.t(), hs[i], out=self._grad(W))              # dW_i = da_i^T h_{i-1}
            torch.sum(da, 0, out=self._grad(b))                     # db_i
            if i:
                dh = da.mm(W)                                       # dh_{i-1} = da_i W_i
        if k.r1_weight > 0:
            loss = loss + 0.5 * k.r1_weight * self._r1_backward(B, acts, k.r1_weight)
        out["grad/D"] = self.run.apply_gradients("D")              # norm, Adam (no EMA for D)
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["D(x)"], out["D(G(z))/before"] = loss, torch.sigmoid(l_r).mean(), torch.sigmoid(l_f).mean()
        return fake

    def _r1_backward(self, B: int, acts: list, gamma: float) -> torch.Tensor:
        """R1 = E_x ||grad_x D(x)||^2 on the real rows (the first B) by the closed form above, and gamma/2 times its
        gradient added into D's weight gradients (one backward through the chain, masks held). Returns R1."""
        (w, _), layers = self.d_layers[-1], self.d_layers[:-1]
        n = len(layers)
        a_real = [a[:B] for a in acts]                              # (B, width) each
        cs = [None] * n
        cs[n - 1] = _lrelu_bw(w.expand(B, -1), a_real[n - 1], SLOPE, False)   # c_n = m_n * w: (B, width)
        for i in range(n - 1, 0, -1):
            cs[i - 1] = _lrelu_bw(cs[i].mm(layers[i][0]), a_real[i - 1], SLOPE, False)   # c_{i-1} = m (c_i W_i)
        g = cs[0].mm(layers[0][0])                                  # grad_x D(x) = c_1 W_1: (B, 2)
        r1 = g.pow(2).sum(1).mean()                                 # E ||grad_x D(x)||^2
        dg = g * (gamma / B)                                        # d(gamma/2 R1)/dg = gamma g / B: (B, 2)
        self._grad(layers[0][0]).addmm_(cs[0].t(), dg)              # dW_1 += c_1^T dg: (width, 2)
        dc = dg.mm(layers[0][0].t())                                # dc_1 = dg W_1^T: (B, width)
        for i in range(1, n):
            dq = _lrelu_bw(dc, a_real[i - 1], SLOPE, False)         # through m_{i} (held): dq = m * dc
            self._grad(layers[i][0]).addmm_(cs[i].t(), dq)          # dW_{i+1} += c_{i+1}^T dq
            dc = dq.mm(layers[i][0].t())                            # dc_{i+1} = dq W_{i+1}^T
        dw = _lrelu_bw(dc, a_real[n - 1], SLOPE, False).sum(0, keepdim=True)   # dw += sum_rows m_n * dc_n: (1, width)
        self._grad(w).add_(dw)
        return r1

    # ---- G --------------------------------------------------------------------------------------------------
    def _g_update(self, out: dict, fake: tuple) -> None:
        k = self.run.knobs
        x, hs, acts = fake                                          # G(z) of the last D update: (B, 2)
        l_f, _, d_acts = self._d_forward(x)                         # D has moved since it scored these fakes
        g_loss = LOSSES[k.loss].g
        dx = self._d_input_grad(G_GRADS[g_loss](l_f), d_acts)       # dL_G/dG(z) through the frozen D: (B, 2)
        (W, b), layers = self.g_layers[-1], self.g_layers[:-1]
        torch.mm(dx.t(), hs[-1], out=self._grad(W))                 # output layer: dW = dx^T h_n: (2, width)
        torch.sum(dx, 0, out=self._grad(b))
        dh = dx.mm(W)                                               # (B, width)
        for i in range(len(layers) - 1, -1, -1):
            W, b = layers[i]
            da = _relu_bw(dh, acts[i], 0)                           # ReLU: pass where a_i > 0
            torch.mm(da.t(), hs[i], out=self._grad(W))
            torch.sum(da, 0, out=self._grad(b))
            if i:
                dh = da.mm(W)
        out["grad/G"] = self.run.apply_gradients("G")              # norm, Adam, then the EMA of G
        out["loss/G"], out["D(G(z))/after"] = g_loss(l_f), torch.sigmoid(l_f).mean()
