"""Slow motion (ganengine.slow_motion): recording an iteration leaves the run bit-identical, the recorded numbers are
the real step's, and every family's iteration is told as stages."""
import numpy as np
import pytest
import torch

from ganengine.presets import get_preset
from ganengine.run import GANRun
from ganengine.slow_motion import record_iteration
from ganengine.slow_motion_stages import KINDS, build_stages


def build(config, knobs):
    return GANRun(config=config, knobs=knobs)


def steps(run, n):
    for _ in range(n):
        run.train_iteration()


def state_equal(a, b):
    """Weights, EMA, Adam moments, RNG streams and extra state: bit-equal."""
    def flat(obj, prefix=""):
        if isinstance(obj, torch.Tensor):
            yield prefix, obj
        elif isinstance(obj, dict):
            for k, v in obj.items():
                yield from flat(v, f"{prefix}/{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                yield from flat(v, f"{prefix}/{i}")
        else:
            yield prefix, obj
    fa, fb = dict(flat(a.training_state())), dict(flat(b.training_state()))
    assert fa.keys() == fb.keys()
    for k in fa:
        if isinstance(fa[k], torch.Tensor):
            assert torch.equal(fa[k], fb[k]), k
        else:
            assert fa[k] == fb[k], k


TINY = {
    "gan-points": lambda: get_preset("ring8").build(width=16, batch_size=32, device="cpu", log_every=5),
    "gan-digits": lambda: get_preset("cgan-mnist").build(width=8, batch_size=8, device="cpu", log_every=5),
    "pix2pix": lambda: get_preset("edges2digits").build(width=8, batch_size=4, device="cpu", log_every=5),
    "cyclegan": lambda: get_preset("cyclegan-digits").build(width=4, depth=1, batch_size=8, device="cpu", log_every=5),
    "styles": lambda: get_preset("digit-styles").build(width=4, depth=1, batch_size=4, device="cpu", log_every=5),
    "srgan": lambda: get_preset("sr-digits").build(width=8, depth=1, batch_size=4, device="cpu", log_every=5,
                                                   mse_warmup_steps=2),
    "progan": lambda: get_preset("progan-digits").build(width=8, batch_size=8, phase_steps=2, device="cpu",
                                                        log_every=5),
    "cogan": lambda: get_preset("cogan-negatives").build(width=4, latent_dim=8, batch_size=8, device="cpu",
                                                         log_every=5),
    "vid2vid": lambda: get_preset("moving-digits").build(width=4, depth=1, batch_size=2, device="cpu", log_every=5),
}


def test_every_family_is_covered():
    from ganengine.families import FAMILIES
    covered = {name.split("-")[0] for name in TINY}
    assert set(FAMILIES) <= covered, set(FAMILIES) - covered


@pytest.mark.parametrize("name", sorted(TINY))
def test_recording_an_iteration_leaves_the_run_exactly_as_it_was(name):
    """Run A records at step 3 and then trains on; run B just trains: every weight, moment, stream and scalar is
    bit-equal, and the recorded scalars are the very ones the real step 4 then computes."""
    config, knobs = TINY[name]()
    a, b = build(config, knobs), build(config, knobs)
    steps(a, 3)
    steps(b, 3)
    rec = record_iteration(a)
    assert a.step == 3 and a.updates == b.updates
    state_equal(a, b)
    steps(a, 3)
    steps(b, 3)
    state_equal(a, b)
    rows_a, rows_b = a.gather(1.0), b.gather(1.0)
    np.testing.assert_array_equal(rows_a, rows_b)
    cols = a.history.index
    # The 2-D gan's real step is the hand-written one (ganengine.fast_mlp_step), the recording autograd's (it needs
    # the hooks): the same numbers to fp32 rounding. Every other step is recorded bit for bit.
    fast = getattr(a.family, "fast_step", None) is not None and a.family.fast_step.applies()
    for scalar, value in rec.scalars.items():     # the real step 4 (row 3 of the gathered rows)
        if fast:
            assert np.isclose(value, rows_a[3, cols[scalar]], rtol=1e-5, atol=1e-7), scalar
        else:
            assert np.float32(value) == np.float32(rows_a[3, cols[scalar]]), scalar


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_family_tells_its_iteration_as_stages(name):
    config, knobs = TINY[name]()
    run = build(config, knobs)
    steps(run, 3)
    rec = record_iteration(run)
    stages = build_stages(rec, run)
    assert stages and len(stages) % len(KINDS) == 0
    assert [s.kind for s in stages[:5]] == list(KINDS)
    assert [s.number for s in stages] == list(range(1, len(stages) + 1))
    for s in stages:
        assert s.title and s.text and s.total == len(stages), s
    if "D" in {s.phase for s in stages}:     # a D update scores real and fake samples
        classify = next(s for s in stages if s.phase == "D" and s.kind == "classify")
        assert {"real", "fake"} <= set(classify.data["hist"]) and "mean D(x) = " in classify.text
    told = {f"{s.phase}/{s.kind}": s.text for s in stages}
    for key, note in type(run.family).stage_notes.items():   # the family's own words, where its stage happened
        if key in told:
            assert note in told[key], key
    grads = next(s for s in stages if s.kind == "gradients")
    assert grads.data["bars"]["items"] and all(np.isfinite(v) for _, v in grads.data["bars"]["items"])


def test_the_gan_iteration_is_gan_labs_ten_stages_with_its_numbers():
    config, knobs = TINY["gan-points"]()
    run = build(config, knobs.with_changes(d_steps=1))
    steps(run, 2)
    rec = record_iteration(run)
    stages = build_stages(rec, run)
    assert [(s.phase, s.kind) for s in stages] == [("D", k) for k in KINDS] + [("G", k) for k in KINDS]
    d_classify, d_loss, g_grads, g_update = stages[1], stages[2], stages[8], stages[9]
    assert f"mean D(x) = {rec.scalars['D(x)']:.2f}" in d_classify.text
    assert f"{rec.scalars['loss/D']:.3f}" in d_loss.text
    pts = g_grads.data["points"]                  # G's push on each of the batch's fakes: GAN Lab's arrows
    assert pts["fake"].shape == pts["push"].shape == (32, 2) and np.abs(pts["push"]).sum() > 0
    moved = g_update.data["points"]
    assert moved["fake"].shape == moved["fake_before"].shape and not np.array_equal(moved["fake"], moved["fake_before"])
    d_update = stages[4].data["points"]           # D's field before and after its update
    assert d_update["heat"].shape == (48, 96) and not np.array_equal(d_update["heat"], d_update["heat_before"])


def test_a_step_kind_outside_the_family_is_refused():
    config, knobs = TINY["gan-points"]()
    with pytest.raises(ValueError, match="step kind"):
        record_iteration(build(config, knobs), "sideways")


def test_recording_keeps_the_mixed_precision_wrappers(monkeypatch):
    """ganengine/precision.py wraps run.update (and the family's step) on the instance under bf16 / fp16: a recording
    puts those wrappers back (it used to delete run.update, leaving the class's unwrapped method), and the bf16 run
    that recorded stays bit-equal to one that did not."""
    monkeypatch.setenv("GAN_PRECISION", "bf16")
    config, knobs = TINY["gan-points"]()
    a, b = build(config, knobs), build(config, knobs)
    wrapped = vars(a)["update"]
    steps(a, 2)
    steps(b, 2)
    record_iteration(a)
    assert vars(a).get("update") is wrapped
    steps(a, 2)
    steps(b, 2)
    state_equal(a, b)
