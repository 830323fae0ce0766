"""Issue 15: log-axis ticks read alone (0.01, 0.02, 0.05, not plotly's bare "2, 5") and setting-change markers carry a
short label on the plot that never overlaps the next one."""
import numpy as np

from ganengine.run import Event
from playground import figures


def test_tick_text_reads_alone():
    assert [figures.tick_text(v) for v in (1e-5, 0.001, 0.02, 5, 300, 20000, 3e5)] == \
        ["1e-5", "0.001", "0.02", "5", "300", "20000", "3e+5"]


def test_gradient_norms_have_full_labels_on_a_short_range():
    n = 300
    m = {"step": np.arange(1, n + 1, dtype=np.float64), "grad/D": np.linspace(0.03, 0.4, n),
         "grad/G": np.linspace(0.05, 0.2, n)}
    axis = figures.gradnorm_figure(m, [])["layout"]["yaxis"]
    assert axis["type"] == "log" and axis["tickmode"] == "array"
    assert axis["ticktext"][:7] == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"]
    assert all(t != "2" and t != "5" for t in axis["ticktext"][:6])   # no bare minor labels below 1
    m["grad/D"], m["grad/G"] = np.linspace(15, 40, n), np.linspace(12, 30, n)   # within one decade: more ticks
    axis = figures.gradnorm_figure(m, [])["layout"]["yaxis"]
    assert {"15", "20", "30"} <= set(axis["ticktext"])


def test_a_wide_log_range_is_labelled_by_decades_only():
    q = [{"step": s, "kind": "digits", "fd": fd, "classes": 10, "fd_floor": 0.8}
         for s, fd in ((100, 900.0), (200, 40.0), (300, 3.0))]
    axis = figures.quality_figure(q, "digits")["layout"]["yaxis"]
    assert axis["ticktext"] == ["0.1", "1", "10", "100", "1000"]


def test_change_markers_are_labelled_without_overlap():
    m = {"step": np.arange(1, 1001, dtype=np.float64), **{k: np.full(1000, 0.5) for k in
         ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/D", "grad/G")}}
    events = [Event(100, "lr_d", "lr_d 0.0002 -> 0.001"), Event(110, "loss", "loss ns -> hinge"),
              Event(600, "d_steps", "d_steps 1 -> 5")]
    for fig in (figures.loss_figure(m, events), figures.dprob_figure(m, events), figures.gradnorm_figure(m, events)):
        labels = [a for a in fig["layout"]["annotations"] if a.get("name") == "setting change"]
        assert [a["text"] for a in labels] == ["loss ns -> hinge (+1)", "d_steps 1 -> 5"]   # 100 and 110 share one
        assert all(a["textangle"] == -90 for a in labels)
        xs = [a["x"] for a in labels]
        assert all(b - a >= figures.LABEL_GAP * 1000 for a, b in zip(xs, xs[1:]))
    dprob = figures.dprob_figure(m, events)
    assert [a["text"] for a in dprob["layout"]["annotations"]] == ["loss ns -> hinge (+1)", "d_steps 1 -> 5"]
    assert any(t["name"] == "equilibrium 0.5" for t in dprob["data"])   # a legend entry, not a label over the curves


def test_the_papers_reference_lines_are_legend_entries_not_labels_that_overlap():
    """Seen at 390 px: the labels "PacGAN4: 95.9%" and "GAN (PacGAN): 98.2%" sat 2% apart over the plot, one on the
    other. They are legend entries now (the legend wraps under a narrow plot)."""
    from ganengine.metrics.mixtures import PUBLISHED
    q = [{"step": s, "kind": "mixture", "modes": 7, "num_modes": 8, "high_quality": 90.0, "reverse_kl": 0.1}
         for s in (100, 200)]
    fig = figures.quality_figure(q, "mixture", PUBLISHED["ring8"])
    assert not [a for a in fig["layout"].get("annotations", []) if "PacGAN" in a["text"]]
    refs = {t["name"]: t for t in fig["data"] if "paper" in t["name"]}
    assert set(refs) == {"PacGAN4 paper: 95.9%", "GAN (PacGAN) paper: 98.2%"}
    assert all(t["yaxis"] == "y2" and t["x"] == [100, 200] for t in refs.values())
