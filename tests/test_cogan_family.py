"""The CoGAN family (issue 13): shared layers are shared objects, smoke, exact replay (rewind, checkpoints), the
pair views, the agreement metrics and the CLI's `sample --out pairs.npz`."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.config import ConfigError, RunConfig
from ganengine.metrics.coupled import coupled_report, read_domain_b, transform
from ganengine.models.coupled import CoupledDiscriminator, CoupledGenerator
from ganengine.presets import get_preset
from ganengine.run import GANRun


def tiny(preset="cogan-negatives", **overrides):
    """A CoGAN preset at width 4, latent 8, batch 8 (fast), on the CPU."""
    return get_preset(preset).build(width=4, latent_dim=8, batch_size=8, device="cpu", sample_every=5, log_every=5,
                                    **overrides)


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def scalars(rows):
    return rows[:, 2:-3]  # the family's named scalars (not step, time, speed or lrs)


def ids(module):
    return {id(p) for p in module.parameters()}


# ---- the shared layers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_shared_layers_are_the_same_module_objects_and_the_rest_are_not(k):
    G, D = CoupledGenerator(latent_dim=8, width=4, shared=k), CoupledDiscriminator(width=4, shared=k)
    g1, g2, d1, d2 = G.branch(0), G.branch(1), D.branch(0), D.branch(1)
    assert len(g1) == len(g2) == len(d1) == len(d2) == 4
    for i in range(4):                                       # G shares its first k layers, D its last k
        assert (g1[i] is g2[i]) == (i < k)
        assert (d1[i] is d2[i]) == (i >= 4 - k)
    shared_g = set().union(*(ids(g1[i]) for i in range(k)))
    assert ids(g1) & ids(g2) == shared_g == ids(G.shared)
    assert ids(d1) & ids(d2) == ids(D.shared)
    assert bool(shared_g) == (k > 0)
    z = torch.randn(3, 8)
    with torch.no_grad():
        a, b = G.eval()(z)                                   # the packed forward is the two branches
        assert torch.equal(a, g1(z)) and torch.equal(b, g2(z))
        x = torch.rand(3, 1, 32, 32) * 2 - 1
        assert torch.equal(D(x, x)[1], d2(x).flatten())
    with pytest.raises(ValueError, match="shared layers must be 0 to 3"):
        CoupledGenerator(latent_dim=8, shared=4)


def test_a_shared_weight_learns_from_both_games():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    G, D = run.nets["G"], run.nets["D"]
    w = G.shared[0][0].weight                                # the first (shared) linear layer
    f1, f2 = G(torch.randn(8, 8))
    grads = [torch.autograd.grad(D.critic(k)(f).square().mean(), w, retain_graph=True)[0] for k, f in ((0, f1), (1, f2))]
    both = torch.autograd.grad(D.critic(0)(f1).square().mean() + D.critic(1)(f2).square().mean(), w)[0]
    assert grads[0].abs().sum() > 0 and grads[1].abs().sum() > 0
    torch.testing.assert_close(both, grads[0] + grads[1])


# ---- the family on the run ---------------------------------------------------------------------------------------
def test_smoke_every_phase_both_views_and_captions():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert set(run.nets) == {"G", "D"} and run.family.phases == ("both", "d", "g")
    rows = np.concatenate([steps(run, 2), steps(run, 1, "d"), steps(run, 1, "g")])
    c = run.history.index
    assert np.isfinite(rows[:2, [c[n] for n in run.family.scalars]]).all()
    assert np.isnan(rows[2, c["loss/G"]]) and np.isfinite(rows[2, c["loss/D"]])
    assert np.isnan(rows[3, c["loss/D"]]) and np.isfinite(rows[3, c["loss/G"]])
    np.testing.assert_allclose(rows[:2, c["D(x)"]], (rows[:2, c["D(x)/D1"]] + rows[:2, c["D(x)/D2"]]) / 2, rtol=1e-6)
    assert run.updates == {"G": 3, "D": 3} and run.non_finite(rows) is None
    v = run.render_visuals()
    assert v["views"] == ("pairs", "agreement") and v["frame"] is v["pairs"]
    assert v["pairs"].shape == (4 * 32 + 5 * 2, 8 * 65 + 9 * 2, 3) and v["pairs"].dtype == np.uint8
    assert v["agreement"].shape == (3 * 32 + 4 * 2, 16 * 32 + 17 * 2, 3)
    assert "first 3 of 4 layers" in v["captions"]["pairs"] and "next start" in v["captions"]["pairs"]
    assert "known" in v["captions"]["agreement"]
    unshared = GANRun(config=config.with_changes(model="shared0"), knobs=knobs)
    assert "nothing is shared" in unshared.family.caption("pairs")


def test_the_views_show_one_z_drawn_by_both_generators():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 2)
    a, b = run.family.pair(run.family.fixed_z)
    pairs, check = (run.render_visuals()[v] for v in ("pairs", "agreement"))
    tile = lambda img, r, c, w=32: img[2 + r * 34:2 + r * 34 + 32, 2 + c * (w + 2):2 + c * (w + 2) + w, 0]  # noqa
    as_float = lambda t: t.astype(np.float32) / 127.5 - 1                                                   # noqa
    pair = as_float(tile(pairs, 1, 2, w=65))                  # row 1, column 2: fixed z number 10
    np.testing.assert_allclose(pair[:, :32], a[10, 0].numpy(), atol=0.01)
    np.testing.assert_allclose(pair[:, 33:], b[10, 0].numpy(), atol=0.01)
    np.testing.assert_allclose(as_float(tile(check, 1, 3)), -a[3, 0].numpy(), atol=0.01)   # T(G1(z)) = -G1(z)
    np.testing.assert_allclose(as_float(tile(check, 2, 3)), b[3, 0].numpy(), atol=0.01)


def test_the_drawing_job_draws_from_frozen_copies():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 2)
    job, before = run.family.render_job(), run.family.render()
    z = run.family.fixed_z
    old = run.family.pair(z)
    steps(run, 2)                                            # training goes on before the job runs
    drawn = job()
    assert all(np.array_equal(drawn[v], before[v]) for v in ("pairs", "agreement"))
    assert not torch.equal(old[0], run.family.pair(z)[0])    # G moved, the job's copy did not


@pytest.mark.parametrize("k", [0, 2, 3])
def test_full_resolution_ends_share_all_but_the_head_and_the_first_d_layer(k):
    """digits-edges' nets (the paper's ends): G's own head is a stride-1 conv at 32 px, D's first layer a stride-1
    conv + max-pool; shared3 shares everything else of G (4 of 5 layers), as the paper does."""
    G, D = CoupledGenerator(latent_dim=8, width=4, shared=k, head="full"), CoupledDiscriminator(width=4, shared=k,
                                                                                                pool=True)
    g1, g2, d1, d2 = G.branch(0), G.branch(1), D.branch(0), D.branch(1)
    n_shared = k + (k == 3)
    assert len(g1) == len(g2) == 5 and len(d1) == 4
    for i in range(5):
        assert (g1[i] is g2[i]) == (i < n_shared)
    assert isinstance(g1[4][0], torch.nn.Conv2d) and g1[4][0].stride == (1, 1) and g1[4] is not g2[4]
    assert d1[0] is not d2[0] and isinstance(d1[0][-1], torch.nn.MaxPool2d)
    z, x = torch.randn(3, 8), torch.rand(3, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        a, b = G.eval()(z)
        assert a.shape == b.shape == (3, 1, 32, 32) and torch.equal(b, g2(z))
        assert torch.equal(D(x, x)[0], d1(x).flatten())


def test_edges_preset_builds_the_full_resolution_nets_and_negatives_the_strided_ones():
    edges = GANRun(config=tiny("cogan-edges")[0], knobs=tiny("cogan-edges")[1])
    negatives = GANRun(config=tiny()[0], knobs=tiny()[1])
    assert len(edges.nets["G"].branch(0)) == 5 and len(negatives.nets["G"].branch(0)) == 4
    assert isinstance(edges.nets["D"].branch(0)[0][-1], torch.nn.MaxPool2d)
    assert isinstance(negatives.nets["D"].branch(0)[0][0], torch.nn.Conv2d)
    assert negatives.nets["D"].branch(0)[0][0].stride == (2, 2)


# ---- exact replay ------------------------------------------------------------------------------------------------
def test_two_runs_with_one_seed_give_the_same_scalars_and_another_seed_does_not():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    assert np.array_equal(scalars(steps(a, 6)), scalars(steps(b, 6)))
    c = GANRun(config=config.with_changes(seed=1), knobs=knobs)
    assert not np.array_equal(scalars(steps(c, 6)), scalars(steps(GANRun(config=config, knobs=knobs), 6)))


def test_rewind_resumes_bit_identically_with_ema():
    config, knobs = tiny("cogan-edges", ema_decay=0.99)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 4)
    run.render_visuals()                                     # a restore point at step 4
    straight = steps(run, 4)
    ema = [p.clone() for p in run.sampler("G").parameters()]
    assert run.rewind(4) == 4
    again = steps(run, 4)
    assert np.array_equal(scalars(straight), scalars(again))
    assert all(torch.equal(x, y) for x, y in zip(ema, run.sampler("G").parameters()))


def test_checkpoint_round_trip_continues_exactly():
    config, knobs = tiny(ema_decay=0.99)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 5)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "cogan" and ckpt["_config"].model == "shared3"
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert b.nets["G"].branch(0)[0] is b.nets["G"].branch(1)[0]   # still one shared object after loading
    assert np.array_equal(scalars(steps(a, 4)), scalars(steps(b, 4)))


# ---- settings and metrics ----------------------------------------------------------------------------------------
def test_bad_settings_are_refused_with_a_sentence():
    with pytest.raises(ConfigError, match="model must be one of shared3"):
        RunConfig(family="cogan", data="digits-negatives", model="dcgan")
    with pytest.raises(ConfigError, match="data must be one of digits-negatives, digits-edges"):
        RunConfig(family="cogan", data="thin2thick", model="shared3")
    with pytest.raises(ConfigError, match="32 px"):
        RunConfig(family="cogan", data="digits-edges", model="shared3", image_size=28)


class _Oracle(torch.nn.Module):
    """A 'generator' whose z picks a real held-out pair (a, T(a)): what a perfect CoGAN would draw."""

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = torch.nn.Parameter(a, requires_grad=False), torch.nn.Parameter(b, requires_grad=False)

    def forward(self, z):
        idx = z[:, 0].long()
        return self.a[idx], self.b[idx]


@pytest.mark.parametrize("task", ["digits-negatives", "digits-edges"])
def test_the_metrics_score_real_pairs_high_and_shuffled_pairs_low(task):
    from ganengine.data.unpaired import UnpairedDigitSource
    a, b, label = UnpairedDigitSource(task, seed=0).held_out()
    G = _Oracle(a, b)
    z = torch.arange(500.0)[torch.randperm(500, generator=torch.Generator().manual_seed(0))][:, None]
    r = coupled_report(G, task, z, (a, b, label))
    assert r["kind"] == "coupled" and r["n"] == 500 and r["classes"] == 10
    assert r["pixel_agreement"] > 0.99 and r["pixel_agreement_unpaired"] < r["pixel_agreement"] - 0.05
    assert r["class_agreement"] > 0.9 and r["class_agreement_unpaired"] < 0.2
    assert abs(r["class_agreement"] - r["class_agreement_real"]) < 1e-6   # the same pairs, in another order
    assert (read_domain_b(task, b) == label).float().mean() > 0.93       # the domain-B reader itself
    if task == "digits-negatives":
        assert torch.equal(transform(task, a), -a)


def test_quality_job_reports_agreement_and_classes():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    q = run.family.quality_job(0)()
    assert q["kind"] == "coupled" and q["n"] == 500 and len(q["class_histogram"]) == 10
    assert {"pixel_agreement", "pixel_agreement_unpaired", "class_agreement", "class_agreement_unpaired",
            "class_agreement_real", "classes", "confidence"} <= set(q)
    assert q["class_agreement_real"] > 0.95


def test_step_cost_estimate_is_near_torchs_count():
    from torch.utils.flop_counter import FlopCounterMode

    from ganengine.cost import step_cost
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    with FlopCounterMode(display=False) as counter:
        run.train_iteration()
    true = counter.get_total_flops()
    assert 0.7 * true <= step_cost(config, knobs, run.spec).flops <= 1.3 * true


# ---- the CLI -----------------------------------------------------------------------------------------------------
TINY = ["--width", "4", "--latent-dim", "8", "--batch-size", "8", "--threads", "1"]


def test_cli_trains_samples_pairs_from_one_z_and_evaluates(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--preset", "cogan-negatives", *TINY, "--steps", "3", "--out", str(out), "--quiet"]) == 0
    ckpt = out / "checkpoint.pt"
    assert main(["sample", str(ckpt), "--n", "5", "--seed", "2", "--out", str(tmp_path / "pairs.npz")]) == 0
    with np.load(tmp_path / "pairs.npz") as f:
        a, b, z = f["a"], f["b"], f["z"]
    assert a.shape == b.shape == (5, 1, 32, 32) and a.dtype == b.dtype == np.float32
    assert a.min() >= -1 and a.max() <= 1 and b.min() >= -1 and b.max() <= 1
    from ganengine.checkpoint import generator_from_checkpoint
    from ganengine.latents import sample_latents
    G, _, _ = generator_from_checkpoint(read_checkpoint(ckpt))
    with torch.no_grad():
        ga, gb = G(sample_latents(5, 8, 2))                  # the same z for both images of a pair
    np.testing.assert_allclose(a, ga.numpy(), atol=1e-6)
    np.testing.assert_allclose(b, gb.numpy(), atol=1e-6)
    np.testing.assert_array_equal(z, sample_latents(5, 8, 2).numpy())   # the file's z is the pairs' z
    capsys.readouterr()
    assert main(["sample", str(ckpt), "--out", str(tmp_path / "x.npy")]) == 2
    assert "a cogan checkpoint samples into .npz files" in capsys.readouterr().err
    assert main(["eval", str(ckpt), "--n", "200"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "cogan" and report["kind"] == "coupled" and report["n"] == 200
    assert main(["train", "--preset", "cogan-edges", "--model", "shared9", "--steps", "1", "--out",
                 str(tmp_path / "bad")]) == 2
