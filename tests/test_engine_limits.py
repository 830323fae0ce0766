"""Limits a hostile visitor must not get past (issue 17): numbers, batch size, step cost, queued steps, temp files."""
import math

import pytest

from ganengine.config import ConfigError, Knobs, RunConfig


# ---- numbers ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["batch_size", "lr_g", "lr_d", "d_steps", "ema_decay", "beta1"])
@pytest.mark.parametrize("value", [True, False])
def test_json_true_and_false_are_not_numbers(field, value):
    """JSON true used to pass as batch size 1 or lr 1.0 (float(True) == 1.0)."""
    with pytest.raises(ConfigError, match="true/false"):
        Knobs(**{field: value})


@pytest.mark.parametrize("field", ["latent_dim", "width", "seed", "image_size", "depth"])
def test_json_true_is_not_a_config_number(field):
    with pytest.raises(ConfigError, match="true/false"):
        RunConfig(**{field: True})


@pytest.mark.parametrize("value,match", [
    ("NaN", "finite"), ("nan", "finite"), ("Infinity", "finite"), ("-Infinity", "finite"), ("1e999", "finite"),
    (float("nan"), "finite"), (math.inf, "finite"), ("1e308", r"\(0, 1\]"), (1e308, r"\(0, 1\]"),
    (10**400, "10\\^400"), ("abc", "must be a number"), (None, "must be a number"), ([1] * 1000, "must be a number"),
])
def test_non_finite_and_huge_numbers_get_one_sentence(value, match):
    with pytest.raises(ConfigError, match=match) as err:
        Knobs(lr_g=value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 200


def test_huge_int_batch_size_is_a_sentence_not_an_overflow():
    with pytest.raises(ConfigError, match="batch size must be in"):
        Knobs(batch_size=10**400)


@pytest.mark.parametrize("batch", [0, 1, "1"])
def test_batch_size_below_two_is_refused_with_the_reason(batch):
    """Batch 1 crashed the original-GAN preset (BatchNorm1d) with a raw torch error."""
    with pytest.raises(ConfigError, match="BatchNorm"):
        Knobs(batch_size=batch)
    assert Knobs(batch_size=2).batch_size == 2


def test_batch_of_two_trains_the_batchnorm_mlp():
    from ganengine.run import GANRun
    config = RunConfig(data="mnist", model="mlp", latent_dim=8, width=8, device="cpu")
    run = GANRun(config=config, knobs=Knobs(batch_size=2))
    run.train_iteration("both")
    run.train_iteration("g")
    assert run.step == 2


# ---- the cost of one step ------------------------------------------------------------------------------------------
def test_step_cost_is_close_to_torchs_own_count_and_cheap():
    """The meta-device estimate against FlopCounterMode around a real iteration (forward and backward)."""
    import time

    from torch.utils.flop_counter import FlopCounterMode

    from ganengine.cost import step_cost, warm_up
    from ganengine.presets import PRESETS
    from ganengine.run import GANRun
    warm_up()
    config, knobs = PRESETS["dcgan-mnist"].build(device="cpu", width=16, batch_size=16)
    run = GANRun(config=config, knobs=knobs)
    with FlopCounterMode(display=False) as counter:
        run.train_iteration()
    began = time.perf_counter()
    cost = step_cost(config, knobs, run.spec)
    assert time.perf_counter() - began < 1.0  # ~20-60 ms; generous for a loaded machine
    true = counter.get_total_flops()
    assert true <= cost.flops <= 1.3 * true
    assert cost.activation_bytes > 0 and cost.g_params == sum(p.numel() for p in run.G.parameters())
    assert step_cost(config, knobs.with_changes(batch_size=32), run.spec).flops == pytest.approx(2 * cost.flops, rel=0.01)
    assert step_cost(config, knobs.with_changes(d_steps=3), run.spec).flops > 2 * cost.flops


def test_every_bundled_preset_fits_the_public_cap_comfortably():
    from ganengine.cost import PUBLIC_MAX_STEP_FLOPS, step_flops
    from ganengine.presets import PRESETS
    for name, preset in PRESETS.items():
        assert step_flops(*preset.build(device="cpu")) < PUBLIC_MAX_STEP_FLOPS / 10, name
    config, knobs = PRESETS["dcgan-mnist"].build(device="cpu")
    assert step_flops(config.with_changes(data="celeba"), knobs) < PUBLIC_MAX_STEP_FLOPS  # 64x64 faces still fit
    assert step_flops(config.with_changes(width=256), knobs) > PUBLIC_MAX_STEP_FLOPS  # the review's width 256
    assert step_flops(config, knobs.with_changes(batch_size=4096)) > PUBLIC_MAX_STEP_FLOPS  # ... and batch 4096


@pytest.fixture
def capped(tiny_digits):
    """A trainer whose cap admits its own setup (DCGAN-28, width 8, batch 16: ~0.2 GFLOP) and not 16x more."""
    from ganengine.cost import step_flops
    from ganengine.trainer import Trainer
    config, knobs = tiny_digits
    cap = 4 * step_flops(config, knobs)
    t = Trainer(config=config, knobs=knobs, threads=1, max_step_flops=cap)
    yield t, cap
    t.close()


def test_a_knob_change_over_the_step_cost_cap_is_refused_and_changes_nothing(capped):
    t, cap = capped
    before = t.snapshot().knobs
    with pytest.raises(ConfigError, match=r"GFLOP per step: lower the batch size.*width"):
        t.set_knobs(batch_size=256)
    with pytest.raises(ConfigError, match="limit"):
        t.set_knobs(d_steps=10)
    assert t.snapshot().knobs == before
    assert t.set_knobs(batch_size=32).batch_size == 32  # 2x: within the cap
    t.set_limits(max_step_flops=cap / 100)  # a lowered cap: the run may still change its lr, or come down
    assert t.set_knobs(lr_g=1e-3).lr_g == 1e-3
    assert t.set_knobs(batch_size=16).batch_size == 16
    with pytest.raises(ConfigError, match="limit"):
        t.set_knobs(batch_size=24)


def test_a_setup_over_the_step_cost_cap_is_refused_before_it_is_built(capped, monkeypatch):
    import ganengine.trainer as trainer_module
    from ganengine.trainer import Trainer
    t, cap = capped
    config = t.snapshot().config

    def no_build(**kw):
        raise AssertionError("a refused setup must not be built")
    monkeypatch.setattr(trainer_module, "GANRun", no_build)
    with pytest.raises(ConfigError, match="limit"):
        t.reset(config=config.with_changes(width=64))
    assert t.snapshot().config == config and t.snapshot().step == 0
    with pytest.raises(ConfigError, match="limit"):
        Trainer(config=config.with_changes(width=64), knobs=t.snapshot().knobs, max_step_flops=cap)
