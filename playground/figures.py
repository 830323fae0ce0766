"""Plotly figures as plain JSON-able dicts, built from a trainer Snapshot. Pure functions: no Gradio, no torch.

This module: the live training curves (losses, D's verdicts, gradient norms), D's output histogram and the 2-D field
view. The shared plotting kit (colours, downsampling, layout, markers) is playground/figure_style.py; the quality
figures are playground/quality_figures.py. Every name is importable from here as before.
"""
from __future__ import annotations

import math

import numpy as np

from playground.figure_style import (DISC, FAKE, FONT, GRAD, GREY, LABEL_CHARS, LABEL_GAP, MAX_EVENTS, MAX_POINTS, REAL,
                                     _bin_mean, _clean, _event_markers, _finish, _layout, _line, _percent_layout,
                                     _series, empty_figure, log_ticks, marker_labels, smooth, tick_text)
from playground.quality_figures import (_progan_quality, class_accuracy_figure, class_histogram_figure,
                                        per_style_figure, quality_figure)

__all__ = ["REAL", "FAKE", "DISC", "GRAD", "GREY", "MAX_POINTS", "MAX_EVENTS", "FONT", "LABEL_GAP", "LABEL_CHARS",
           "FIELD_SCALE", "_bin_mean", "smooth", "_clean", "_layout", "tick_text", "log_ticks", "_line",
           "_event_markers", "marker_labels", "_finish", "_series", "empty_figure", "_percent_layout",
           "loss_figure", "dprob_figure", "gradnorm_figure", "dhist_figure", "field_figure", "quality_figure",
           "_progan_quality", "class_accuracy_figure", "per_style_figure", "class_histogram_figure"]


def loss_figure(metrics: dict, events) -> dict:
    if not len(metrics.get("step", [])):
        return empty_figure("Losses", "Press Start or Step: the D and G losses appear here.")
    data = []
    for key, name, colour in (("loss/D", "Loss D", DISC), ("loss/G", "Loss G", FAKE)):
        x, y = _series(metrics, key)
        data.append(_line(x, y, f"{name} (raw)", colour, width=1, opacity=0.3, show=False))
        data.append(_line(x, smooth(y), name, colour))
    for key in metrics:  # a family's own terms (pix2pix: loss/G/GAN, loss/G/L1) next to the adversarial ones
        if key.startswith("loss/") and key not in ("loss/D", "loss/G"):
            x, y = _series(metrics, key)
            data.append(_line(x, smooth(y), key.replace("loss/", "Loss "), GREY, dash="dot", width=1.5))
    layout = _layout("Losses (faint: raw, bold: smoothed)", ytitle="loss")
    _growth_trace(metrics, data, layout)
    schedules = [key for key in metrics if key.startswith("schedule/")]  # a family's training schedule (vid2vid's
    for key in schedules:                                                 # clip length), raw, on a right axis (y4:
        x, y = _series(metrics, key)                                      # y2 belongs to the event markers)
        data.append({**_line(x, y, key.replace("schedule/", ""), REAL, dash="dash", width=1.5), "yaxis": "y4",
                     "line": {"color": REAL, "width": 1.5, "dash": "dash", "shape": "hv"}})
    if schedules:  # ticks at the schedule's own values (2, 4, 8): an overlaying axis otherwise syncs to y's grid
        # from the raw values, not the bin means: a bin across a step would average 2 and 4 into a tick at 3
        raw = np.concatenate([np.asarray(metrics[k], dtype=np.float64) for k in schedules])
        levels = [float(v) for v in np.unique(raw[np.isfinite(raw)])[:12]]
        layout["yaxis4"] = {"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                            "tickmode": "array", "tickvals": levels, "ticktext": [f"{v:g}" for v in levels],
                            "title": {"text": ", ".join(k.replace("schedule/", "") for k in schedules)}}
        layout["margin"]["r"] = 56
    _event_markers(events, layout, float(metrics["step"][-1]))
    return _finish(data, layout)


def _growth_trace(metrics: dict, data: list, layout: dict) -> None:
    """A growing family's stage (grow/resolution px and grow/alpha, the progressive GAN's) on a right-hand axis in
    px: a staircase 4, 8, 16, 32 whose risers are the fade-ins, drawn at resolution * 2^(alpha - 1) (the previous
    side while alpha = 0, the new side at alpha = 1); the alpha of each point on hover."""
    if "grow/resolution" not in metrics or not len(metrics["grow/resolution"]):
        return
    x, res = _series(metrics, "grow/resolution")
    _, alpha = _series(metrics, "grow/alpha")
    shown = res * 2.0 ** (alpha - 1)
    data.append({**_line(x, shown, "resolution (px, right axis; ramps = fade-ins)", GREY, dash="dash", width=1.5),
                 "yaxis": "y3", "customdata": _clean(alpha), "hovertemplate": "%{y:.0f} px, alpha %{customdata:.2f}"})
    layout["yaxis3"] = {"overlaying": "y", "side": "right", "type": "log", "range": [math.log10(3), math.log10(40)],
                        "tickvals": [4, 8, 16, 32], "showgrid": False, "title": {"text": "px"}}
    layout["margin"]["r"] = 40


def dprob_figure(metrics: dict, events) -> dict:
    if not len(metrics.get("step", [])):
        return empty_figure("D(x) and D(G(z))", "D's verdicts on real and fake samples appear here.")
    x, real = _series(metrics, "D(x)")
    _, before = _series(metrics, "D(G(z))/before")
    _, after = _series(metrics, "D(G(z))/after")
    data = [_line(x, smooth(real, 0.8), "D(x): real", REAL), _line(x, smooth(before, 0.8), "D(G(z)) before D's update", FAKE),
            _line(x, smooth(after, 0.8), "D(G(z)) after", FAKE, dash="dash", width=1.5)]
    # the equilibrium line is a legend entry: a label on the plot sat over the curves, which converge onto it
    data.append({**_line([x[0], x[-1]], [0.5, 0.5], "equilibrium 0.5", GREY, dash="dash", width=1.5),
                 "hoverinfo": "skip"})
    layout = _layout("D(x) and D(G(z)): both head for 0.5", ytitle="D's output", yrange=(0, 1))
    layout["annotations"] = []
    _event_markers(events, layout, float(metrics["step"][-1]))
    return _finish(data, layout)


def gradnorm_figure(metrics: dict, events) -> dict:
    if not len(metrics.get("step", [])):
        return empty_figure("Gradient norms", "How hard each player is being pushed appears here.")
    data = []
    for key, name, colour in (("grad/D", "|grad D|", DISC), ("grad/G", "|grad G|", FAKE)):
        x, y = _series(metrics, key)
        y = np.where(y > 0, y, np.nan)
        data.append(_line(x, smooth(y, 0.8), name, colour))
    layout = _layout("Gradient norms (log scale)", ytitle="norm", ylog=True)
    log_ticks(layout["yaxis"], [v for t in data for v in t["y"]])
    _event_markers(events, layout, float(metrics["step"][-1]))
    return _finish(data, layout)


def dhist_figure(d_hist: dict, step: int | None = None) -> dict:
    """Histograms of D's outputs on the latest real and fake batches: they meet at 0.5 at equilibrium."""
    if not d_hist:
        return empty_figure("D's outputs on real and fake samples", "Histograms appear after the first step.")
    bins = np.linspace(0, 1, 26)
    centres = (bins[:-1] + bins[1:]) / 2
    data = []
    for key, name, colour in (("real", "real x", REAL), ("fake", "fake G(z)", FAKE)):
        counts, _ = np.histogram(np.clip(d_hist[key], 0, 1), bins=bins)
        share = counts / max(counts.sum(), 1)
        data.append({"type": "bar", "x": _clean(centres), "y": _clean(share), "name": name, "opacity": 0.6,
                     "marker": {"color": colour}, "width": 0.04, "hovertemplate": "%{x:.2f}: %{y:.0%}"})
    layout = _layout(f"D's verdicts, real vs fake{f' (step {step})' if step else ''}",
                     xtitle="D(.) = probability 'real'", ytitle="share of samples")
    layout["barmode"] = "overlay"
    layout["xaxis"]["range"] = [0, 1]
    layout["hovermode"] = "closest"
    layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": 0.5, "x1": 0.5, "y0": 0, "y1": 1,
                         "line": {"color": GREY, "width": 1.5, "dash": "dash"}}]
    return {"data": data, "layout": layout}


# GAN Lab's heatmap: purple where D says "fake", green where it says "real", grey at 0.5 (equilibrium).
FIELD_SCALE = [[0.0, "rgb(163,62,189)"], [0.5, "rgb(235,235,235)"], [1.0, "rgb(0,136,55)"]]


def field_figure(field: dict, bounds: tuple, step: int | None = None, *, arrows: int = 200,
                 height: int = 360) -> dict:
    """The 2-D view: D's decision heatmap, real (green) and fake (purple) points, G's push on each fake (magenta)."""
    if not field:
        return empty_figure("Data space", "Real points, fakes and D's verdict appear after the first step.", height)
    xmin, xmax, ymin, ymax = bounds
    fake, real, push = field["fake"], field["real"], field["push"]
    # Rounded in float64: float32 values rounded to 0.48 print as 0.47999998927116394 (a 4x larger tick).
    heat = np.round(np.asarray(field["heat"], dtype=np.float64), 2).tolist()
    data = [{"type": "heatmap", "x": _clean(field["xs"]), "y": _clean(field["ys"]),
             "z": heat, "zmin": 0, "zmax": 1, "colorscale": FIELD_SCALE, "opacity": 0.55,
             "showscale": True, "colorbar": {"title": {"text": "D(x)"}, "thickness": 10, "len": 0.8},
             "hovertemplate": "D(%{x:.2f}, %{y:.2f}) = %{z:.2f}<extra></extra>", "name": "D(x)"}]
    data.append({"type": "scatter", "mode": "markers", "x": _clean(fake[:, 0]), "y": _clean(fake[:, 1]),
                 "name": "fake", "marker": {"color": FAKE, "size": 6, "opacity": 0.7}, "hoverinfo": "skip"})
    if real is not None:  # drawn over the fakes, smaller, so both show when G covers the data
        data.append({"type": "scatter", "mode": "markers", "x": _clean(real[:, 0]), "y": _clean(real[:, 1]),
                     "name": "real", "marker": {"color": REAL, "size": 3}, "hoverinfo": "skip"})
    n = min(arrows, len(fake))
    if n:
        norms = np.linalg.norm(push[:n], axis=1)
        scale = 0.06 * max(xmax - xmin, ymax - ymin) / max(float(np.percentile(norms, 90)), 1e-12)
        tips = fake[:n] + np.clip(push[:n] * scale, -(xmax - xmin), xmax - xmin)
        xs = np.stack([fake[:n, 0], tips[:, 0], np.full(n, np.nan)], 1).ravel()
        ys = np.stack([fake[:n, 1], tips[:, 1], np.full(n, np.nan)], 1).ravel()
        data.append({"type": "scatter", "mode": "lines", "x": _clean(xs), "y": _clean(ys), "name": "G's push",
                     "line": {"color": GRAD, "width": 1}, "hoverinfo": "skip"})
    layout = _layout(f"Data space{f' (step {step})' if step else ''}", xtitle="x1", ytitle="x2", height=height)
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [xmin, xmax], [ymin, ymax]
    layout["yaxis"]["scaleanchor"] = "x"
    layout["hovermode"] = "closest"
    return {"data": data, "layout": layout}
