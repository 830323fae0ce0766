"""digits-edges' soft edge domain (ganengine.data.unpaired.soft_edges) and the coupled metrics that separate the
tie of a CoGAN's pair from its readers' disagreement (class_agreement_self, class_agreement_b)."""
import torch

from ganengine.data.paired import canny_edges
from ganengine.data.unpaired import load_unpaired_digits, soft_edges, transform
from ganengine.metrics.coupled import coupled_report, transform as float_transform


def bar(width=4):
    """One white vertical bar `width` px wide on black, (1, 1, 32, 32) in [0, 1]."""
    x = torch.zeros(1, 1, 32, 32)
    x[..., 6:26, 14:14 + width] = 1.0
    return x


def test_soft_edges_are_blurred_outlines_scaled_to_one():
    x = bar()
    e = soft_edges(x)
    assert e.shape == x.shape and e.min() >= 0 and abs(float(e.max()) - 1) < 1e-6
    row = e[0, 0, 16]                                           # across the bar at mid-height
    assert row[:10].max() < 0.05 and row[22:].max() < 0.05      # nothing far from the bar
    inside = row[15:17].max()                                   # the bar's middle columns
    assert inside < 0.8 * row[12:15].max() and inside < 0.8 * row[17:20].max()   # an outline: dark inside
    assert torch.equal(soft_edges(torch.zeros(2, 1, 32, 32)), torch.zeros(2, 1, 32, 32))  # no edge: stays 0
    # it is the Canny outline, softened: every Canny pixel stays bright, and the blur spreads it by ~1 px only
    c = canny_edges(x)
    assert e[c].min() > 0.5 and (e > 0.5).sum() <= 3 * c.sum()


def test_the_data_domain_and_the_metric_transform_agree():
    d = load_unpaired_digits("digits-edges")
    a = d["a"][d["test"][:50]]                                  # uint8 (50, 1, 32, 32)
    b = d["b"][d["test"][:50]]
    assert torch.equal(b, transform("digits-edges", a))
    assert b.dtype == torch.uint8 and int(b.amax()) == 255 and len(b.unique()) > 20      # grey levels, not 0 / 255
    f = float_transform("digits-edges", a.float() / 127.5 - 1)  # the metric's T in [-1, 1]
    assert (f - (b.float() / 127.5 - 1)).abs().max() < 2 / 255 + 1e-6


class _Pairs(torch.nn.Module):
    """A fixed 'generator': z (n, 1) indexes rows of a and b."""

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = torch.nn.Parameter(a, requires_grad=False), torch.nn.Parameter(b, requires_grad=False)

    def forward(self, z):
        return self.a[z[:, 0].long()], self.b[z[:, 0].long()]


def test_self_and_domain_b_agreement_separate_the_tie_from_the_readers():
    from ganengine.data.unpaired import UnpairedDigitSource
    a, b, label = UnpairedDigitSource("digits-edges", seed=0).held_out()
    z = torch.randperm(500, generator=torch.Generator().manual_seed(0)).float()[:, None]   # classes mixed
    exact = coupled_report(_Pairs(a, b), "digits-edges", z)     # G2 draws exactly T(G1)
    assert exact["class_agreement_b"] > 0.99 and exact["class_agreement_b_unpaired"] < 0.2
    assert abs(exact["class_agreement_self"] - exact["class_agreement"]) < 0.01
    # G1's digits blurred beyond the classifier's reach, G2 still their exact edges: the readers disagree more,
    # the pair still agrees in domain B
    from ganengine.metrics.image_quality import gaussian_filter
    rough = gaussian_filter(a, 9, 1.5, padding=4)
    r = coupled_report(_Pairs(rough, float_transform("digits-edges", rough)), "digits-edges", z)
    assert r["class_agreement_b"] > 0.99 and r["class_agreement_self"] == r["class_agreement"]
    neg = coupled_report(_Pairs(a, -a), "digits-negatives", z)  # negatives: T is exact, both readers the same
    assert neg["class_agreement_self"] == 1.0 and neg["class_agreement_b"] == 1.0


def test_the_probe_trains_measures_and_draws_its_look_grid(tmp_path, monkeypatch, capsys):
    import json
    import sys

    from bench import cogan_probe
    png = tmp_path / "look.png"
    monkeypatch.setattr(sys, "argv", ["cogan_probe", "--iters", "2", "--set", "width=4", "--set", "latent_dim=8",
                                      "--set", "batch_size=8", "--png", str(png), "--tag", "t"])
    cogan_probe.main()
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["iters"] == 2 and r["width"] == 4 and r["edge"] == "code"
    assert 0 <= r["self_ceiling"] <= 1 and abs(r["class_agreement_real"] - 0.970) < 0.01   # the edge reader on real pairs
    assert (tmp_path / "look_2.png").exists()


def test_the_edge_reader_reads_held_out_edges_and_is_a_plain_weights_file():
    """The bundled edge reader (assets/make_edge_reader.py) reads the 500 held-out soft edge images it never saw,
    and its file loads with weights_only=True (no pickled code)."""
    import torch

    from ganengine.data.unpaired import load_unpaired_digits
    from ganengine.metrics.edge_reader import WEIGHTS, read_edges
    data = load_unpaired_digits("digits-edges")
    test = data["test"]
    edges = data["b"][test].float() / 127.5 - 1                        # (500, 1, 32, 32) in [-1, 1]
    assert (read_edges(edges) == data["label"][test]).float().mean() > 0.96
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    assert state["held_out_accuracy"] > 0.96 and state["held_out_size"] == 500


def test_a_missing_edge_reader_names_the_script_that_makes_it(tmp_path):
    import pytest

    from ganengine.metrics.edge_reader import load_edge_reader
    with pytest.raises(FileNotFoundError, match="edge reader weights missing.*make_edge_reader.py"):
        load_edge_reader(tmp_path / "none.pt")
