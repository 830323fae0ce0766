"""The CycleGAN family (issue 12): smoke, exact replay, rewind and checkpoints with the replay pool, the pool's
semantics, the unpaired data, its live knobs and the CLI verbs."""
import json

import numpy as np
import pytest
import torch

from ganengine.checkpoint import CheckpointError, build_checkpoint, checkpoint_bytes, read_checkpoint, restore_run
from ganengine.cli import main
from ganengine.config import ConfigError
from ganengine.presets import get_preset
from ganengine.replay_pool import ReplayPool
from ganengine.run import GANRun

TINY = ["--width", "4", "--depth", "1", "--batch-size", "8", "--threads", "1"]


def tiny(**overrides):
    """The cyclegan-digits preset at width 4, 1 residual block, batch 8 (fast), on the CPU."""
    return get_preset("cyclegan-digits").build(width=4, depth=1, batch_size=8, device="cpu", sample_every=5,
                                               log_every=5, **overrides)


def steps(run, n, kind="both"):
    rows = []
    for _ in range(n):
        run.train_iteration(kind)
        rows.append(run.gather(0.01))
    return np.concatenate(rows)


def scalars(rows):
    return rows[:, 2:-3]  # the family's named scalars (not step, time, speed or lrs)


def pool_states(run):
    return {d: p.get_state() for d, p in run.family.pools.items()}


def same_pools(x, y):
    return all(torch.equal(x[d]["images"], y[d]["images"]) and torch.equal(x[d]["generator"], y[d]["generator"])
               for d in x)


# ---- the family on the run ---------------------------------------------------------------------------------------
def test_smoke_every_phase_both_views_and_the_objective():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    assert run.family.phases == ("both", "g", "d") and set(run.nets) == {"G_AB", "G_BA", "D_A", "D_B"}
    assert run.knobs.get("lambda_cycle") == 10.0 and run.knobs.get("lambda_identity") == 0.5
    rows = np.concatenate([steps(run, 2), steps(run, 1, "g"), steps(run, 1, "d")])
    c = run.history.index
    assert np.isfinite(rows[:2, [c[n] for n in run.family.scalars]]).all()
    assert np.isnan(rows[2, c["loss/D"]]) and np.isnan(rows[2, c["D(x)"]]) and np.isfinite(rows[2, c["loss/G"]])
    assert np.isnan(rows[3, c["loss/G"]]) and np.isfinite(rows[3, c["loss/D"]])
    # loss/G is the mean over both directions of GAN + lambda_cycle * cycle + lambda_identity * lambda_cycle * identity
    total = rows[:3, c["loss/G/GAN"]] + 10 * rows[:3, c["loss/G/cycle"]] + 5 * rows[:3, c["loss/G/identity"]]
    np.testing.assert_allclose(rows[:3, c["loss/G"]], total, rtol=1e-5)
    np.testing.assert_allclose(rows[:2, c["D(x)"]], (rows[:2, c["D(x)/D_A"]] + rows[:2, c["D(x)/D_B"]]) / 2, rtol=1e-6)
    assert run.non_finite(rows) is None
    assert run.updates == {"G": 3, "D": 3}
    v = run.render_visuals()
    assert v["views"] == ("cycles", "identity") and v["frame"] is v["cycles"]
    assert v["cycles"].shape == (6 * 32 + 7 * 2, 20 * 32 + 21 * 2, 3) and v["cycles"].dtype == np.uint8
    assert v["identity"].shape == (4 * 32 + 5 * 2, 20 * 32 + 21 * 2, 3)
    assert all(v["captions"][view] for view in v["views"]) and len(v["d_hist"]["real"]) > 8


def test_the_view_shows_held_out_digits_and_their_translations():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    a, b, label = run.source.held_out()
    fam = run.family
    assert torch.equal(fam.view_b, b[torch.cat([torch.nonzero(label == k).squeeze(1)[:2] for k in range(10)])])
    grid = run.render_visuals()["cycles"]
    row = lambda r: grid[2 + r * 34:2 + r * 34 + 32, 2:34, 0].astype(np.float32) / 127.5 - 1  # noqa: E731
    first = fam.view_a[0, 0].numpy()
    np.testing.assert_allclose(row(0), first, atol=0.01)                                  # A
    np.testing.assert_allclose(row(1), fam.translate(fam.view_a[:1])[0, 0].numpy(), atol=0.01)  # G_AB(A)
    np.testing.assert_allclose(row(3), fam.view_b[0, 0].numpy(), atol=0.01)               # B


def test_the_drawing_job_draws_from_frozen_copies_what_render_draws():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 2)
    job, before = run.family.render_job(), run.family.render()
    steps(run, 2)                                  # training goes on before the job runs (on the render thread)
    drawn = job()
    assert set(drawn) == {"cycles", "identity"} and all(np.array_equal(drawn[v], before[v]) for v in drawn)
    assert not np.array_equal(drawn["cycles"], run.family.render()["cycles"])


def test_two_runs_with_one_seed_give_the_same_scalars():
    config, knobs = tiny()
    a, b = GANRun(config=config, knobs=knobs), GANRun(config=config, knobs=knobs)
    assert np.array_equal(scalars(steps(a, 8)), scalars(steps(b, 8)))
    assert same_pools(pool_states(a), pool_states(b))
    c = GANRun(config=config.with_changes(seed=1), knobs=knobs)
    assert not np.array_equal(scalars(steps(c, 8))[:, 0], scalars(steps(GANRun(config=config, knobs=knobs), 8))[:, 0])


def test_rewind_restores_weights_ema_and_the_pool_bit_identically():
    config, knobs = tiny(ema_decay=0.999)
    run = GANRun(config=config, knobs=knobs)
    steps(run, 7)                                  # 7 x 8 fakes: both pools are full (50)
    assert all(p.count == 50 for p in run.family.pools.values())
    run.render_visuals()                           # a restore point at step 7
    at_point = pool_states(run)
    straight = steps(run, 5)
    ema = [p.clone() for n in ("G_AB", "G_BA") for p in run.sampler(n).parameters()]
    after = pool_states(run)
    assert not same_pools(at_point, after)         # the straight path replaced stored fakes
    assert run.rewind(7) == 7
    assert same_pools(at_point, pool_states(run))
    again = steps(run, 5)
    assert np.array_equal(scalars(straight), scalars(again))
    assert all(torch.equal(x, y) for x, y in zip(ema, [p for n in ("G_AB", "G_BA") for p in run.sampler(n).parameters()]))
    assert same_pools(after, pool_states(run))


def test_rollback_restores_the_pool():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 7)
    run.remember_good()
    good = pool_states(run)
    steps(run, 3)
    run.rollback()
    assert same_pools(good, pool_states(run))


def test_checkpoint_round_trip_continues_exactly_pool_included():
    config, knobs = tiny(ema_decay=0.99)
    a = GANRun(config=config, knobs=knobs)
    steps(a, 8)
    ckpt = read_checkpoint(checkpoint_bytes(a))
    assert ckpt["family"] == "cyclegan" and set(ckpt["state"]["nets"]) == {"G_AB", "G_BA", "D_A", "D_B"}
    assert set(ckpt["state"]["ema"]) == {"G_AB", "G_BA"} and ckpt["state"]["extra"]["pool_A"]["images"].shape[0] == 50
    assert ckpt["_knobs"].get("lambda_cycle") == 10.0
    b = GANRun(config=ckpt["_config"], knobs=ckpt["_knobs"])
    restore_run(ckpt, b)
    assert same_pools(pool_states(a), pool_states(b))
    assert np.array_equal(scalars(steps(a, 4)), scalars(steps(b, 4)))


def _saved(ckpt) -> bytes:
    import io
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    return buf.getvalue()


def test_checkpoints_with_a_bad_pool_or_data_order_are_refused():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 2)
    for bad in (torch.zeros(51, 1, 32, 32), torch.zeros(3, 1, 28, 28), torch.full((2, 1, 32, 32), float("nan"))):
        ckpt = build_checkpoint(run)
        ckpt["state"]["extra"]["pool_B"] = dict(ckpt["state"]["extra"]["pool_B"], images=bad)
        with pytest.raises(CheckpointError, match="extra state does not fit"):
            read_checkpoint(_saved(ckpt))
    ckpt = build_checkpoint(run)
    ckpt["state"]["extra"]["pool_C"] = ckpt["state"]["extra"]["pool_A"]
    with pytest.raises(CheckpointError, match="extra state"):
        read_checkpoint(_saved(ckpt))
    ckpt = build_checkpoint(run)
    ckpt["state"]["rng"]["data"]["b"]["generator"] = torch.zeros(3)   # not a generator state
    with pytest.raises(CheckpointError, match="generator state"):
        read_checkpoint(_saved(ckpt))


def test_lambdas_are_live_knobs_of_cyclegan_and_identity_zero_drops_its_term(tiny_points):
    from ganengine.trainer import Trainer
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    events = run.apply_knobs(run.knobs.with_changes(lambda_identity=0.0, lambda_cycle=2.0))
    assert {e.kind for e in events} == {"lambda_identity", "lambda_cycle"}
    rows = steps(run, 2)
    c = run.history.index
    # identity is still measured (its curve shows what turning it off does), but no longer in loss/G
    np.testing.assert_allclose(rows[:, c["loss/G"]], rows[:, c["loss/G/GAN"]] + 2 * rows[:, c["loss/G/cycle"]],
                               rtol=1e-5)
    assert np.all(rows[:, c["loss/G/identity"]] > 0)
    t = Trainer(config=config, knobs=knobs, threads=1)
    t.set_knobs(lambda_cycle=5.0)
    with pytest.raises(ConfigError, match="cycle weight"):
        t.set_knobs(lambda_cycle=-1)
    t.close()
    g = Trainer(config=tiny_points[0], knobs=tiny_points[1], threads=1)
    with pytest.raises(ConfigError, match="not a live setting"):
        g.set_knobs(lambda_cycle=10.0)
    g.close()


def test_quality_job_measures_both_directions_on_the_held_out_digits():
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    steps(run, 1)
    q = run.family.quality_job(100)()
    assert q["kind"] == "cycle" and q["n"] == 500
    assert {"label_ab", "label_ba", "cycle_aba", "cycle_bab", "l1_ab", "psnr_ab", "l1_ba", "change_ab"} <= set(q)
    assert q["label_real_a"] > 0.95 and q["label_real_b"] > 0.9      # the classifier reads both real domains
    assert 0.1 < q["l1_copy"] < 0.2


def test_step_cost_estimate_is_near_torchs_count():
    from torch.utils.flop_counter import FlopCounterMode

    from ganengine.cost import step_cost
    config, knobs = tiny()
    run = GANRun(config=config, knobs=knobs)
    with FlopCounterMode(display=False) as counter:
        run.train_iteration()
    true = counter.get_total_flops()
    assert 0.8 * true <= step_cost(config, knobs, run.spec).flops <= 1.3 * true


# ---- the replay pool ------------------------------------------------------------------------------------------
def junyanz_query(stored: list, size: int, images, coins, slots):
    """util/image_pool.py's ImagePool.query with its random draws given (coin u, slot), as a reference."""
    out = []
    for image, u, slot in zip(images, coins, slots):
        if len(stored) < size:
            stored.append(image.clone())
            out.append(image)
        elif u > 0.5:
            out.append(stored[slot].clone())
            stored[slot] = image.clone()
        else:
            out.append(image)
    return torch.stack(out)


def test_pool_follows_junyanz_semantics():
    pool, ref = ReplayPool(seed=5, size=6), []
    draws = torch.Generator().manual_seed(5)                 # the same stream the pool draws from
    served_old = 0
    for i in range(12):
        batch = torch.full((4, 1, 2, 2), float(i)) + torch.arange(4.0).view(4, 1, 1, 1) / 10   # distinct images
        coins = torch.rand(4, generator=draws).tolist()
        slots = torch.randint(6, (4,), generator=draws).tolist()
        expected = junyanz_query(ref, 6, batch, coins, slots)
        got = pool.query(batch)
        assert torch.equal(got, expected)
        assert torch.equal(pool.images[:pool.count], torch.stack(ref))
        served_old += int((got != batch).flatten(1).any(1).sum())
    assert pool.count == 6 and served_old > 5               # it fills, then hands out old fakes


def test_pool_serves_about_half_old_fakes_once_full_and_replays_from_its_state():
    pool = ReplayPool(seed=0)
    pool.query(torch.randn(50, 1, 4, 4))                    # fills it: all 50 returned as they came
    state = pool.get_state()
    new = torch.randn(1000, 1, 4, 4)
    got = pool.query(new)
    old = (got != new).flatten(1).any(1).float().mean().item()
    assert 0.42 < old < 0.58
    again = ReplayPool(seed=123)                            # another seed, then the saved state
    again.set_state(state, (1, 4, 4), "cpu")
    assert torch.equal(again.query(new), got)
    assert torch.equal(ReplayPool(seed=0, size=0).query(new), new)
    with pytest.raises(ValueError, match="up to 50"):
        again.set_state({"images": torch.zeros(51, 1, 4, 4), "generator": state["generator"]}, (1, 4, 4), "cpu")


# ---- the unpaired data ----------------------------------------------------------------------------------------
def test_domains_are_disjoint_halves_and_the_held_out_digits_are_never_trained_on():
    from ganengine.data.unpaired import UnpairedDigitSource, dilate, load_unpaired_digits
    data = load_unpaired_digits("thin2thick")
    a_train, b_train, test = (set(data[k].tolist()) for k in ("a_train", "b_train", "test"))
    assert len(a_train) == len(b_train) == 2250 and len(test) == 500
    assert not (a_train & b_train) and not (a_train & test) and not (b_train & test)
    assert len(a_train | b_train | test) == 5000
    labels = data["label"]
    assert all((labels[data["a_train"]] == c).sum() == (labels[data["b_train"]] == c).sum() for c in range(10)) or \
        all(abs(int((labels[data["a_train"]] == c).sum()) - int((labels[data["b_train"]] == c).sum())) <= 1
            for c in range(10))
    src = UnpairedDigitSource("thin2thick", seed=0)
    assert torch.equal(src.a, data["a"][data["a_train"]]) and torch.equal(src.b, dilate(data["a"][data["b_train"]]))
    held = {bytes(x.numpy()) for x in data["a"][data["test"]]} | {bytes(x.numpy()) for x in data["b"][data["test"]]}
    seen = {bytes(x.numpy()) for x in src.a} | {bytes(x.numpy()) for x in src.b}
    assert not held & seen                                      # no held-out image, thin or thick, is in training
    for _ in range(600):                                        # 2.1 epochs of each half, at batch 8
        a, b = src.sample(8)
        assert a.shape == b.shape == (8, 1, 32, 32) and a.min() >= -1 and b.max() <= 1
    a, b, label = src.held_out()
    assert torch.equal(b, ((dilate(((a + 1) * 127.5).round().to(torch.uint8)).float() / 127.5) - 1))  # b = T(a)


def test_dilation_thickens_a_stroke_by_its_neighbours():
    from ganengine.data.unpaired import dilate
    x = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    x[0, 0, 2, 2] = 200
    x[0, 0, 0, 0] = 90
    y = dilate(x)[0, 0]
    cross = torch.tensor([[90, 90, 0, 0, 0], [90, 0, 200, 0, 0], [0, 200, 200, 200, 0], [0, 0, 200, 0, 0],
                          [0, 0, 0, 0, 0]], dtype=torch.uint8)
    assert torch.equal(y, cross)                                # not a per-pixel function: the max of a cross


def test_source_state_replays_the_batches():
    from ganengine.data.unpaired import UnpairedDigitSource
    src = UnpairedDigitSource("thin2thick", seed=3)
    src.sample(5)
    state = src.get_state()
    first = src.sample(300)
    src.set_state(state)
    assert all(torch.equal(x, y) for x, y in zip(first, src.sample(300)))
    with pytest.raises(ValueError, match="domain B"):
        src.set_state({"a": state["a"], "b": {**state["b"], "perm": torch.arange(10)}})


# ---- the command line -----------------------------------------------------------------------------------------
def test_cli_train_translate_both_ways_eval_and_refusals(tmp_path, capsys):
    out = tmp_path / "cg"
    assert main(["train", "--preset", "cyclegan-digits", "--steps", "2", *TINY, "--seed", "3", "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Loss_G/cycle" in printed and "ResNet" in printed
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert {"loss/D", "loss/G", "loss/G/cycle", "loss/G/identity", "D(x)/D_A"} <= set(row)
    ckpt = str(out / "checkpoint.pt")
    for direction in ("ab", "ba"):
        assert main(["translate", ckpt, "--split", "test", "--n", "30", "--seed", "1", "--direction", direction,
                     "--out", str(tmp_path / f"{direction}.npz")]) == 0
    assert main(["translate", ckpt, "--split", "train", "--n", "7", "--out", str(tmp_path / "train.npz")]) == 0
    ab, ba = np.load(tmp_path / "ab.npz"), np.load(tmp_path / "ba.npz")
    for t in (ab, ba):
        assert t["input"].shape == t["output"].shape == t["target"].shape == (30, 1, 32, 32)
        assert all(t[k].dtype == np.float32 and t[k].min() >= -1 and t[k].max() <= 1 for k in ("input", "output", "target"))
        assert t["label"].dtype == np.int64
    assert np.array_equal(ab["input"], ba["target"]) and np.array_equal(ab["target"], ba["input"])  # same digits
    assert ab["target"].sum() > ab["input"].sum()                                 # B = thick: more ink
    assert np.load(tmp_path / "train.npz")["label"].shape == (7,)
    from PIL import Image
    sketch = np.full((64, 64), 255, np.uint8)
    sketch[16:48, 30:34] = 0
    Image.fromarray(sketch).save(tmp_path / "sketch.png")
    assert main(["translate", ckpt, "--input", str(tmp_path / "sketch.png"), "--direction", "ba",
                 "--out", str(tmp_path / "d.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "d.png")).shape[:2] == (32, 32)
    capsys.readouterr()
    assert main(["eval", ckpt]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "cyclegan" and report["n"] == 500 and {"label_ab", "label_ba", "cycle_aba"} <= set(report)
    assert main(["translate", ckpt, "--split", "test", "--direction", "sideways", "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert "--direction must be ab" in err and len(err.strip().splitlines()) == 1
    assert main(["sample", ckpt, "--out", str(tmp_path / "s.npy")]) == 2


def test_cli_sets_a_family_knob_and_refuses_a_foreign_one(tmp_path, capsys):
    out = tmp_path / "noid"
    assert main(["train", "--preset", "cyclegan-digits", "--steps", "2", *TINY, "--knob", "lambda_identity=0",
                 "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["knobs"]["lambda_identity"] == 0.0
    for line in (out / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        assert r["loss/G"] == pytest.approx(r["loss/G/GAN"] + 10 * r["loss/G/cycle"], rel=1e-5)
    capsys.readouterr()
    assert main(["train", "--preset", "cyclegan-digits", "--steps", "1", "--knob", "lambda_l1=5", "--quiet",
                 "--out", str(tmp_path / "x")]) == 2
    assert "lambda_l1 is not a setting of the cyclegan family" in capsys.readouterr().err
    assert main(["train", "--preset", "cyclegan-digits", "--steps", "1", "--knob", "lambda_cycle=ten", "--quiet",
                 "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "--resume", str(out / "checkpoint.pt"), "--knob", "lambda_cycle=1", "--steps", "1",
                 "--out", str(out)]) == 2
    assert "--knob" in capsys.readouterr().err


def test_pix2pix_refuses_a_direction(tmp_path, capsys):
    out = tmp_path / "p2p"
    assert main(["train", "--preset", "edges2digits", "--steps", "1", "--width", "8", "--batch-size", "4",
                 "--threads", "1", "--quiet", "--out", str(out)]) == 0
    assert main(["translate", str(out / "checkpoint.pt"), "--split", "test", "--n", "3", "--direction", "ba",
                 "--out", str(tmp_path / "t.npz")]) == 2
    assert "one way" in capsys.readouterr().err


def test_train_resume_continues_exactly(tmp_path):
    common = ["--preset", "cyclegan-digits", *TINY, "--seed", "2", "--quiet"]
    assert main(["train", *common, "--steps", "12", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *common, "--steps", "6", "--out", str(tmp_path / "split")]) == 0
    assert main(["train", "--resume", str(tmp_path / "split" / "checkpoint.pt"), "--steps", "6", "--quiet",
                 "--threads", "1", "--out", str(tmp_path / "split")]) == 0

    def rows(path):
        return [json.loads(line) for line in path.read_text().splitlines()]
    straight, split = rows(tmp_path / "straight" / "metrics.jsonl"), rows(tmp_path / "split" / "metrics.jsonl")
    assert [r["step"] for r in split] == list(range(1, 13))
    keys = ("loss/D", "loss/G", "loss/G/cycle", "loss/G/identity", "D(x)", "D(G(z))/before", "grad/G", "grad/D")
    assert [[r[k] for k in keys] for r in straight] == [[r[k] for k in keys] for r in split]
