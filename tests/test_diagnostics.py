"""Diagnostics on recorded metric traces of real runs (bench/record_traces.py): they fire on the presets that fail
on purpose and stay quiet on the good ones. No timing involved: the traces are data."""
import json
from pathlib import Path

import numpy as np
import pytest

from ganengine.metrics.diagnostics import diagnose
from ganengine.run import Event

TRACES = Path(__file__).resolve().parent / "data" / "traces"


def load(name):
    t = json.loads((TRACES / f"{name}.json").read_text())
    metrics = {k: np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
               for k, vals in t["metrics"].items()}
    events = [Event(e["step"], e["kind"], e["text"]) for e in t["events"]]
    return metrics, t["quality"], events, t["loss"]


def kinds(name):
    return {d.kind for d in diagnose(*load(name))}


@pytest.mark.parametrize("name", ["ring8", "dcgan-mnist", "cgan-mnist"])
def test_quiet_on_the_good_presets(name):
    assert kinds(name) == set()


def test_mode_collapse_preset():
    assert "mode_collapse" in kinds("mode-collapse")


def test_d_wins_preset():
    found = diagnose(*load("d-wins"))
    assert "d_wins" in {d.kind for d in found}
    text = next(d for d in found if d.kind == "d_wins")
    assert "D(x) = " in text.evidence and "ns" in text.suggestion


def test_divergence_trace():
    found = diagnose(*load("diverged"))
    assert [d.kind for d in found][0] == "diverged" and "rolled back" in found[0].evidence


def test_too_little_evidence_fires_nothing():
    """The failing traces cut to fewer points than a diagnosis needs (and one quality measurement): quiet."""
    from ganengine.metrics.diagnostics import MIN_ROWS
    for name in ("mode-collapse", "d-wins"):
        metrics, quality, events, loss = load(name)
        short = {k: v[: MIN_ROWS - 1] for k, v in metrics.items()}
        assert diagnose(short, quality[:1], [], loss) == []


def test_d_wins_is_seen_early_when_it_is_early():
    """D wins from the start in that preset: 10% of the trace already shows it."""
    metrics, quality, events, loss = load("d-wins")
    tenth = {k: v[: len(v) // 10] for k, v in metrics.items()}
    assert "d_wins" in {d.kind for d in diagnose(tenth, [], [], loss)}


def test_oscillation_on_a_synthetic_cycle():
    """A limit cycle (no preset oscillates reliably in a minute): D(G(z)) swinging 0.1-0.9 with period 100 steps."""
    steps = np.arange(2000, dtype=np.float64)
    fake = 0.5 + 0.4 * np.sin(2 * np.pi * steps / 100)
    metrics = {"step": steps, "D(x)": 1 - fake, "D(G(z))/before": fake, "D(G(z))/after": fake,
               "grad/G": np.ones_like(steps), "grad/D": np.ones_like(steps)}
    assert {d.kind for d in diagnose(metrics, [], [], "ns")} == {"oscillation"}
    calm = {**metrics, "D(G(z))/before": 0.5 + 0.02 * np.sin(2 * np.pi * steps / 100)}
    assert diagnose(calm, [], [], "ns") == []


def test_noise_is_unrecognisable_not_an_eight():
    """Issue 15: pure noise was counted as 100% digit "8" (the classifier's softmax is 93% sure of it)."""
    import torch

    from ganengine.data.images import load_bundled_mnist, to_unit_range
    from ganengine.metrics.digits import digit_metrics
    torch.manual_seed(0)
    noise = digit_metrics(torch.rand(1000, 1, 28, 28) * 2 - 1)
    assert noise["unrecognisable"] > 0.8
    grey = digit_metrics(torch.zeros(500, 1, 28, 28))      # an untrained G's flat output
    assert grey["unrecognisable"] == 1.0 and grey["classes"] == 0
    images, _ = load_bundled_mnist()
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(1))[:2500]
    real = digit_metrics(to_unit_range(images[perm]))
    assert real["unrecognisable"] < 0.02 and real["classes"] == 10
    from ganengine.metrics.diagnostics import _collapsed
    assert not _collapsed({"kind": "digits", **grey})       # no digits yet is not mode collapse
