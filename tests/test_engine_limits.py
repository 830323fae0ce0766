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
