"""The hand-written point-MLP step (ganengine.fast_mlp_step, issue 16): its gradients are autograd's (D's loss with
R1's closed form, G's loss through D) to fp32 rounding, GAN_FAST_STEP=0 turns it off, settings it does not cover fall
back to autograd, and a preset run through it replays exactly (rewind, resume from a training state)."""
import copy

import pytest
import torch

from ganengine.config import ConfigError, Knobs
from ganengine.fast_mlp_step import FastPointStep
from ganengine.presets import get_preset
from ganengine.run import GANRun


def _run(monkeypatch, fast: bool, preset="ring8", **knobs) -> GANRun:
    monkeypatch.setenv("GAN_FAST_STEP", "auto" if fast else "0")
    config, k = get_preset(preset).build(seed=3, device="cpu", **knobs)
    run = GANRun(config=config, knobs=k)
    assert isinstance(run.family.fast_step, FastPointStep) == fast
    return run


def _grads(run, group):
    return [p.grad.clone() for p in run.params[group]]


@pytest.mark.parametrize("preset, knobs", [
    ("ring8", dict(r1_weight=10.0)),                                   # R1 dominant: its closed-form gradient
    ("grid25", dict(r1_weight=5.0)),                                   # 3 hidden layers
    ("ring8", dict(loss="lsgan", r1_weight=1.0, label_smoothing=0.1)),
    ("ring8", dict(loss="hinge", r1_weight=1.0)),
    ("ring8", dict(loss="minimax", r1_weight=0.0)),
    ("mode-collapse", dict()),                                        # width 128, latent 256, no R1
])
def test_gradients_are_autogradss_to_fp32_rounding(monkeypatch, preset, knobs):
    slow, fast = _run(monkeypatch, False, preset, **knobs), _run(monkeypatch, True, preset, **knobs)
    for group, kind in (("D", "d"), ("G", "g")):     # D's update first; then G's through the D each has now
        slow.train_iteration(kind)
        fast.train_iteration(kind)
        pairs = list(zip(_grads(slow, group), _grads(fast, group)))
        scale = max(a.abs().max().item() for a, _ in pairs)
        assert scale > 0
        for a, b in pairs:     # (hinge's output-bias gradient can be exactly 0 in both: all logits in the margin)
            assert (a - b).abs().max().item() <= 1e-4 * max(a.abs().max().item(), 1e-3 * scale), group
    for (p, q) in zip(slow.params["D"] + slow.params["G"], fast.params["D"] + fast.params["G"]):
        assert torch.allclose(p, q, atol=1e-5)       # Adam's steps on those gradients agree too
    rows_slow, rows_fast = slow.gather(1.0), fast.gather(1.0)
    assert rows_slow.shape == rows_fast.shape
    same = ~torch.isnan(torch.from_numpy(rows_slow))
    assert torch.allclose(torch.from_numpy(rows_fast)[same], torch.from_numpy(rows_slow)[same], rtol=1e-4, atol=1e-6)


def test_the_r1_gradient_is_the_double_backward_of_the_penalty_alone(monkeypatch):
    """Only the R1 term: the fast step's D gradient with gamma minus without it, against autograd's."""
    diffs = []
    for fast in (False, True):
        g = {}
        for gamma in (0.0, 4.0):
            run = _run(monkeypatch, fast, r1_weight=gamma)
            run.train_iteration("d")
            g[gamma] = _grads(run, "D")
        diffs.append([a - b for a, b in zip(g[4.0], g[0.0])])
    for a, b in zip(*diffs):
        assert torch.allclose(a, b, atol=1e-5 * max(1.0, a.abs().max().item()))
    assert diffs[0][-1].abs().max() == 0 and diffs[0][0].abs().max() > 0   # R1 reaches no bias, every weight


def test_the_off_switch_and_a_bad_setting(monkeypatch):
    monkeypatch.setenv("GAN_FAST_STEP", "0")
    config, knobs = get_preset("ring8").build(seed=0)
    assert GANRun(config=config, knobs=knobs).family.fast_step is None
    monkeypatch.setenv("GAN_FAST_STEP", "maybe")
    with pytest.raises(ConfigError, match="GAN_FAST_STEP must be auto, 0 or 1"):
        GANRun(config=config, knobs=knobs)


def test_settings_it_does_not_cover_train_through_autograd(monkeypatch):
    run = _run(monkeypatch, True, loss="wgan-gp", gp_weight=1.0)
    assert not run.family.fast_step.applies()                         # WGAN-GP's penalty: autograd
    run.train_iteration()
    run.apply_knobs(run.knobs.__class__(**{**run.knobs.to_dict(), "loss": "ns"}))
    assert run.family.fast_step.applies()                             # a live switch back takes the fast step
    run.train_iteration()
    assert torch.isfinite(torch.from_numpy(run.gather(1.0))).any()
    monkeypatch.setenv("GAN_FAST_STEP", "auto")
    config, knobs = get_preset("dcgan-mnist").build(seed=0)
    assert GANRun(config=config, knobs=knobs).family.fast_step is None    # image models: autograd


def _rows(run, n):
    """n iterations' history rows without the time column (a resumed run's clock starts elsewhere)."""
    for i in range(n):
        run.train_iteration({4: "d", 7: "g"}.get(i, "both"))
    rows = torch.from_numpy(run.gather(1.0))
    return torch.cat([rows[:, :1], rows[:, 2:]], dim=1)


def _same(a, b) -> bool:
    """Bit-equal, NaN where NaN (a D-only step has no G scalars)."""
    return a.shape == b.shape and torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)


def test_a_preset_run_replays_exactly_through_the_fast_step(monkeypatch):
    monkeypatch.setenv("GAN_FAST_STEP", "auto")
    config, knobs = get_preset("ring8").build(seed=5, device="cpu", sample_every=10)
    knobs = Knobs(**{**knobs.to_dict(), "batch_size": 64, "d_steps": 2})
    run = GANRun(config=config, knobs=knobs)
    assert run.family.fast_step.applies()
    _rows(run, 10)
    run.visuals_job()                                   # keeps a restore point at step 10
    state = copy.deepcopy(run.training_state())
    first = _rows(run, 15)
    assert run.rewind(10) == 10
    assert _same(first, _rows(run, 15))
    other = GANRun(config=config, knobs=knobs)          # a resumed run from the copied state
    other.load_training_state(state)
    other.set_counters(10, dict(run.updates), 0.0)
    assert _same(first, _rows(other, 15))


def test_d_steps_and_the_run_counters(monkeypatch):
    run = _run(monkeypatch, True, d_steps=3, batch_size=32)
    run.train_iteration("both")
    run.train_iteration("g")
    assert run.updates == {"G": 2, "D": 3} and run._ema_updates == 2
    assert len(run.adversarial.recent) == 3
