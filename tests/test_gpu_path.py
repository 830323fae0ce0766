"""The GPU path (ganengine.precision, playground.gpu_slots): AMP where the CPU has it (bf16 autocast), channels_last,
the settings' checks, the no-host-sync rule (CUDA only: skipped here without a GPU) and the GPU trainer cap."""
import pytest
import torch

from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.presets import PRESETS
from ganengine.run import GANRun

CUDA = torch.cuda.is_available()
SMALL = dict(family="gan", data="mnist", model="dcgan", latent_dim=16, width=8, seed=1, device="cpu")


def run_of(monkeypatch, precision="fp32", channels_last="0", **config):
    monkeypatch.setenv("GAN_PRECISION", precision)
    monkeypatch.setenv("GAN_CHANNELS_LAST", channels_last)
    return GANRun(config=RunConfig(**{**SMALL, **config}), knobs=Knobs(batch_size=8, ema_decay=0.9))


def test_cpu_default_is_fp32_contiguous(monkeypatch):
    monkeypatch.delenv("GAN_PRECISION", raising=False)
    monkeypatch.delenv("GAN_CHANNELS_LAST", raising=False)
    run = GANRun(config=RunConfig(**SMALL), knobs=Knobs(batch_size=8))
    assert run.precision.name == "fp32" and not run.precision.channels_last
    assert "train_step" not in vars(run.family)             # the family's step is not wrapped on the CPU


def test_bf16_autocast_on_the_cpu_trains_with_fp32_weights(monkeypatch):
    run = run_of(monkeypatch, "bf16")
    seen = []
    run.nets["G"].register_forward_hook(lambda m, a, out: seen.append(out.dtype))
    for _ in range(3):
        run.train_iteration("both")
    assert torch.bfloat16 in seen                            # G's convolutions ran in bf16
    assert all(p.dtype == torch.float32 for net in run.nets.values() for p in net.parameters())
    assert all(s.dtype == torch.float32 for st in run.opt["G"].state.values() for s in st.values()
               if s.is_floating_point() and s.ndim)          # Adam's moments stay fp32
    rows = run.gather(1.0)
    assert rows.shape[0] == 3 and torch.isfinite(torch.from_numpy(rows[:, 2:])).all()


def test_bf16_gradients_follow_the_fp32_ones(monkeypatch):
    """One iteration from the same weights, data and noise: the gradients each optimiser step receives under bf16
    autocast point the same way as fp32's (cosine > 0.98; bf16 keeps 8 bits of mantissa, so each product is exact to
    ~0.4%). Adam's first step is ~lr * sign(grad), so the weights themselves are compared through the gradients."""
    a, b = run_of(monkeypatch, "fp32"), run_of(monkeypatch, "bf16")
    grads = {id(a): {}, id(b): {}}
    def keep(run, group):
        def hook(opt, args, kwargs):           # the gradient of the group's first step (before Adam uses it)
            grads[id(run)].setdefault(group, torch.cat([p.grad.flatten() for p in run.params[group]]))
        return hook
    for run in (a, b):
        for group, opt in run.opt.items():
            opt.register_step_pre_hook(keep(run, group))
        run.train_iteration("both")
    for group in ("D", "G"):
        cos = torch.nn.functional.cosine_similarity(grads[id(a)][group], grads[id(b)][group], dim=0)
        assert cos > 0.98, (group, float(cos))


def test_channels_last_on_the_cpu_gives_the_same_run(monkeypatch):
    a, b = run_of(monkeypatch, channels_last="0"), run_of(monkeypatch, channels_last="1")
    assert b.nets["D"].main[0].weight.is_contiguous(memory_format=torch.channels_last) \
        if hasattr(b.nets["D"], "main") else any(p.ndim == 4 and p.is_contiguous(memory_format=torch.channels_last)
                                                 and not p.is_contiguous() for p in b.nets["D"].parameters())
    for _ in range(2):
        a.train_iteration("both")
        b.train_iteration("both")
    for n in a.nets:
        for p, q in zip(a.nets[n].parameters(), b.nets[n].parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)   # other conv kernels: float rounding only


@pytest.mark.parametrize("name, value", [("GAN_PRECISION", "fp8"), ("GAN_PRECISION", "fp16"),
                                         ("GAN_CHANNELS_LAST", "yes")])
def test_bad_or_unfit_settings_are_one_sentence(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        GANRun(config=RunConfig(**SMALL), knobs=Knobs(batch_size=8))
    assert name in str(err.value) or "CUDA" in str(err.value)


def one_preset_per_family():
    seen = {}
    for p in PRESETS.values():
        seen.setdefault(p.config.get("family", "gan"), p)
    return list(seen.values())


@pytest.mark.skipif(not CUDA, reason="the host-sync rule is about CUDA streams: needs a CUDA GPU (none here)")
@pytest.mark.parametrize("preset", one_preset_per_family(), ids=lambda p: p.name)
@pytest.mark.parametrize("precision", ["bf16", "fp16", "fp32"])
def test_no_host_sync_per_training_step_on_cuda(monkeypatch, preset, precision):
    """Under torch.cuda.set_sync_debug_mode("error"), training steps (not the gather, the one sync point) never
    wait for the GPU: no .item(), no bool of a device tensor, no blocking copy."""
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    monkeypatch.setenv("GAN_PRECISION", precision)
    config, knobs = preset.build(device="cuda")
    run = GANRun(config=config, knobs=knobs)
    kind = run.family.phases[0]
    for _ in range(3):                                       # warm-up: cuDNN's choices, lazy inits
        run.train_iteration(kind)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(5):
            run.train_iteration(kind)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert run.gather(1.0).shape[0] == 8


def test_gpu_trainer_cap_follows_free_memory(monkeypatch):
    from playground import gpu_slots
    monkeypatch.delenv("GAN_GPU_MIB_PER_TRAINER", raising=False)
    monkeypatch.delenv("GAN_GPU_MAX_TRAINERS", raising=False)
    assert gpu_slots.slots_for_memory(15 * 2**30) == 24       # a T4's 15 GiB free: 0.8 x 15 GiB / 512 MiB
    assert gpu_slots.slots_for_memory(140 * 2**30) == 32      # an H200: the upper bound
    assert gpu_slots.slots_for_memory(100 * 2**20) == 1       # at least one
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (8 * 2**30, 16 * 2**30))
    assert gpu_slots.default_max_trainers(4) == 12
    from playground.settings import load_settings
    monkeypatch.delenv("GAN_MAX_TRAINERS", raising=False)
    monkeypatch.delenv("GAN_PUBLIC", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert load_settings().max_trainers == 12
    monkeypatch.setenv("GAN_MAX_TRAINERS", "3")
    assert load_settings().max_trainers == 3                  # the variable still wins
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_slots.default_max_trainers(4) == 4
