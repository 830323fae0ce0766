"""Figure builders: valid JSON for plotly.js (no NaN), downsampled, with gaps kept and markers for events."""
import json

import numpy as np

from ganengine.run import Event
from playground import figures
from playground.live_plot import figure_json


def metrics(n):
    steps = np.arange(1, n + 1, dtype=np.float32)
    m = {c: np.random.default_rng(0).random(n).astype(np.float32) for c in
         ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D")}
    m["loss/G"][::5] = np.nan  # D-only steps have no G loss
    return {"step": steps, **m}


def test_curves_are_json_and_bounded():
    m = metrics(5000)
    events = [Event(100, "lr_g", "lr_g 0.0002 -> 0.001"), Event(4000, "loss", "loss ns -> hinge")]
    for fig in (figures.loss_figure(m, events), figures.dprob_figure(m, events), figures.gradnorm_figure(m, events)):
        figure_json(fig)  # allow_nan=False: raises on NaN
        assert all(len(t["x"]) <= figures.MAX_POINTS for t in fig["data"] if t.get("mode") == "lines")
    loss = figures.loss_figure(m, events)
    assert len(loss["layout"]["shapes"]) == 2  # one dotted marker per setting change
    assert loss["data"][-1]["text"] == ["lr_g 0.0002 -> 0.001", "loss ns -> hinge"]


def test_bin_mean_keeps_means_and_gaps():
    x = np.arange(1000, dtype=np.float64)
    y = np.ones(1000)
    y[:10] = np.nan  # a whole first bin of NaN stays a gap
    xs, ys = figures._bin_mean(x, y, n=100)
    assert len(xs) == 100 and np.isnan(ys[0]) and np.allclose(ys[1:], 1.0)
    assert xs[1] == np.mean(x[10:20])


def test_field_and_histograms_and_quality():
    rng = np.random.default_rng(0)
    field = {"fake": rng.random((512, 2)), "real": rng.random((512, 2)), "push": rng.random((512, 2)),
             "heat": rng.random((64, 64)), "xs": np.linspace(0, 1, 64), "ys": np.linspace(0, 1, 64)}
    fig = figures.field_figure(field, (0, 1, 0, 1), 100)
    assert fig["data"][0]["type"] == "heatmap" and json.loads(figure_json(fig))
    names = [t["name"] for t in fig["data"]]
    assert names.index("fake") < names.index("real")  # real drawn on top
    heat32 = figures.field_figure(dict(field, heat=field["heat"].astype(np.float32)), (0, 1, 0, 1))["data"][0]["z"]
    assert len(json.dumps(heat32, separators=(",", ":"))) <= 64 * 64 * 5  # the engine's float32 heat stays ~4 chars
    assert json.loads(figure_json(figures.dhist_figure({"real": rng.random(256), "fake": rng.random(256)}, 5)))
    q = [{"step": 100, "kind": "mixture", "modes": 7, "num_modes": 8, "high_quality": 90.0, "reverse_kl": 0.1}]
    assert json.loads(figure_json(figures.quality_figure(q, "mixture", {"PacGAN4": (7.8, 95.9, 0.07)})))
    d = [{"step": 100, "kind": "digits", "fd": 50.0, "classes": 10, "fd_floor": 3.2}]
    assert json.loads(figure_json(figures.quality_figure(d, "digits")))
    assert json.loads(figure_json(figures.class_histogram_figure([0.1] * 10)))


def test_a_familys_own_losses_join_the_loss_curves():
    m = metrics(50)
    m["loss/G/L1"] = np.linspace(1, 0.1, 50).astype(np.float32)
    names = [d["name"] for d in figures.loss_figure(m, [])["data"]]
    assert "Loss G/L1" in names and "Loss D" in names
    assert "Loss G/L1" not in [d["name"] for d in figures.loss_figure(metrics(50), [])["data"]]


def test_translation_and_cycle_quality_figures():
    from playground.figures import class_accuracy_figure, quality_figure
    tr = [{"step": s, "accuracy": a, "psnr": 15 + s / 100, "ssim": 0.5, "l1": 0.1} for s, a in ((10, 0.2), (20, 0.9))]
    fig = quality_figure(tr, "translation")
    assert [t["name"] for t in fig["data"]][0].startswith("classifier reads") and fig["data"][0]["y"] == [20, 90]
    cyc = [{"step": 5, "label_ab": 0.5, "label_ba": 0.25, "cycle_aba": 0.2, "l1_ab": 0.3}]
    fig = quality_figure(cyc, "cycle")
    assert fig["data"][0]["y"] == [50] and fig["data"][1]["y"] == [25] and fig["data"][2]["yaxis"] == "y2"
    bars = class_accuracy_figure([1.0, None, 0.5])
    assert bars["data"][0]["y"] == [1.0, None, 0.5]


def test_style_transfer_quality_figures():
    from playground.figures import per_style_figure, quality_figure
    h = [{"step": 3, "content": 0.9, "style_match": 0.5, "change": 0.7, "diversity": 0.1}]
    fig = quality_figure(h, "styles")
    assert fig["data"][0]["y"] == [90] and fig["data"][1]["y"] == [50] and fig["data"][2]["yaxis"] == "y2"
    bars = per_style_figure({"plain": {"content": 1.0, "style": 0.5}, "hatched": {"content": 0.75, "style": 1.0}})
    assert bars["data"][0]["x"] == ["plain", "hatched"] and bars["data"][1]["y"] == [0.5, 1.0]


def test_a_schedule_keeps_its_axis_when_settings_change():
    """vid2vid's clip length sat on y2, which the event markers take over (hidden, 0-1.05) at the first event."""
    import numpy as np


    metrics = {"step": np.arange(1, 301, dtype=np.float32), "loss/D": np.ones(300, np.float32),
               "loss/G": np.ones(300, np.float32), "schedule/seq_len": np.repeat([2, 4, 8], 100).astype(np.float32)}
    fig = figures.loss_figure(metrics, (Event(150, "knob", "lambda_T = 0"),))
    trace = [t for t in fig["data"] if t.get("name") == "seq_len"][0]
    assert trace["yaxis"] == "y4" and fig["layout"]["yaxis4"]["title"]["text"] == "seq_len"
    assert fig["layout"]["yaxis2"]["visible"] is False                   # the markers' own hidden axis
    assert fig["layout"]["yaxis4"]["tickvals"] == [2, 4, 8]           # labelled at its own levels, not y's grid
    long = {k: np.repeat(v, 100) for k, v in metrics.items()}          # 30,000 steps: binned, yet no tick at 3 or 6
    long["step"] = np.arange(1, 30_001, dtype=np.float32)
    assert figures.loss_figure(long, ())["layout"]["yaxis4"]["tickvals"] == [2, 4, 8]


def test_the_decision_field_is_wider_than_the_data_so_a_wide_plot_is_shaded_to_its_edges():
    from ganengine.render import field_axes
    xs, ys = field_axes((-1.5, 1.5, -1.0, 1.0), 32)
    assert len(ys) == 32 and ys[0] == -1.0 and ys[-1] == 1.0
    assert xs[0] == -3.0 and xs[-1] == 3.0                    # twice x's span, centred on the data
    assert len(xs) == 96                                       # as many columns per unit as rows
    step_x, step_y = xs[1] - xs[0], ys[1] - ys[0]
    assert abs(step_x - step_y) < 0.01
