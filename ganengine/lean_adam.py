"""LeanAdam: torch.optim.Adam on the CPU with the fused kernel, stepped without the Optimizer's per-call Python.

The update is Adam's (Kingma & Ba 2015, Algorithm 1), with t the step count of each parameter:
  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
computed by torch's own fused CPU kernel (torch._fused_adam_, what ``Adam(fused=True)`` calls), so the numbers are
torch's fused Adam bit for bit (tests/test_lean_adam.py checks it).

Why: the small 2-D presets (an MLP 2 x 64, batch 256) spend their time in Python, not arithmetic. For them
``opt.step()`` costs more than the update itself: the profiler record it opens, hook lookups, ``_init_group``'s
per-parameter checks and the foreach path's ten or so list ops. ``step`` here does only what the fused path does for
one plain parameter group (the state tensors are the optimiser's own, so state_dict, checkpoints and rewinds are
unchanged) and falls back to torch's step for anything else (a closure, hooks, a GradScaler's arguments, amsgrad,
maximize, a tensor lr). bench/RESULTS.md has the measured figures.

Checkpoints: ``state_dict`` writes the group as the engine's foreach Adam always has (fused off), so files stay
loadable by earlier versions and pass ganengine.checkpoint's flag check; ``load_state_dict`` keeps this optimiser's
own kernel choice whatever the file says.
"""
from __future__ import annotations

import torch


class LeanAdam(torch.optim.Adam):
    def __init__(self, params, *, lr: float, betas: tuple):
        super().__init__(params, lr=lr, betas=betas, foreach=False, fused=True)
        self._flags = {"foreach": False, "fused": True}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (what Optimizer.zero_grad(set_to_none=True) does, without its profiler record)."""
        if not set_to_none:
            return super().zero_grad(set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def _plain(self) -> bool:
        """Whether step may take the short path: no hooks anywhere, one group of plain float settings."""
        from torch.optim import optimizer as _opt
        if self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks or \
                _opt._global_optimizer_pre_hooks or _opt._global_optimizer_post_hooks:
            return False
        if len(self.param_groups) != 1:
            return False
        g = self.param_groups[0]
        return not (g["amsgrad"] or g["maximize"] or g["differentiable"] or g["capturable"] or
                    g["decoupled_weight_decay"] or isinstance(g["lr"], torch.Tensor)) and g["fused"]

    @torch.no_grad()
    def _lean_step(self) -> None:
        group = self.param_groups[0]
        params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
        state = self.state
        for p in group["params"]:                     # the parameters that received a gradient this step
            if p.grad is None:
                continue
            s = state[p]
            if not s:                                 # lazy state, as Adam._init_group makes it for fused=True
                s["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                s["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                s["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            exp_avgs.append(s["exp_avg"])
            exp_avg_sqs.append(s["exp_avg_sq"])
            steps.append(s["step"])
        if not params:
            return
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)                 # t <- t + 1 (each parameter's own count)
        torch._fused_adam_(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"],
                           beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"],
                           maximize=False, grad_scale=None, found_inf=None)   # m, v, theta in place

    def step(self, closure=None, **kwargs):
        if closure is None and not kwargs and self._plain():
            self._lean_step()
            return None
        torch_step = torch.optim.Adam.step          # torch's step, with its hooks and profiler record: Adam's class
        if not getattr(torch_step, "hooked", False):   # step is wrapped once an Adam exists; wrap it here otherwise
            torch_step = torch.optim.Optimizer.profile_hook_step(torch_step)
        return torch_step(self, closure, **kwargs)

    step.hooked = True    # Optimizer.__init__ must not wrap this step in its profiler/hook wrapper (super's has it)

    def state_dict(self) -> dict:
        out = super().state_dict()
        for group in out["param_groups"]:             # the form ganengine.checkpoint expects: foreach, not fused
            group["fused"], group["foreach"] = None, True
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:               # this device's kernel, whatever the file recorded
            group.update(self._flags)


def make_adam(params, *, lr: float, betas: tuple, device: torch.device) -> torch.optim.Adam:
    """The engine's Adam: LeanAdam on the CPU; torch's Adam (its default kernel choice) elsewhere. The betas are
    stored as floats: a whole number typed for one (``--set beta1=0``) is an int, which fused Adam refuses."""
    params, betas = list(params), tuple(float(b) for b in betas)
    if device.type == "cpu" and params and all(p.dtype in (torch.float32, torch.float64) for p in params):
        return LeanAdam(params, lr=lr, betas=betas)
    return torch.optim.Adam(params, lr=lr, betas=betas)
