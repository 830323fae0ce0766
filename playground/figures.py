"""Plotly figures as plain JSON-able dicts, built from a trainer Snapshot. Pure functions: no Gradio, no torch.

Colours are GAN Lab's: real green, fake/generator purple, discriminator blue, gradients magenta. Every curve is
downsampled to at most MAX_POINTS points (bin means), so a tick stays small however long the run is, and every
setting change is drawn as a dotted vertical marker with a short label up the line (the full text on hover).
"""
from __future__ import annotations

import math

import numpy as np

REAL = "rgb(0,136,55)"
FAKE = "rgb(163,62,189)"
DISC = "rgb(68,124,228)"
GRAD = "rgb(196,20,219)"
GREY = "rgb(150,150,150)"
MAX_POINTS = 400
MAX_EVENTS = 30
FONT = {"family": "Inter, system-ui, sans-serif", "size": 12}


def _bin_mean(x: np.ndarray, y: np.ndarray, n: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Downsample (x, y) to at most n points by averaging consecutive bins; NaNs (D-only steps) are skipped, an
    all-NaN bin stays NaN (a gap). Vectorised: a tick must not spend its time here."""
    if len(x) <= n:
        return x, y
    starts = np.linspace(0, len(x), n + 1).astype(int)[:-1]
    sizes = np.diff(np.append(starts, len(x)))
    xs = np.add.reduceat(np.asarray(x, dtype=np.float64), starts) / sizes
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(y)
    sums = np.add.reduceat(np.where(finite, y, 0.0), starts)
    counts = np.add.reduceat(finite.astype(np.int64), starts)
    ys = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return xs, ys


def smooth(y: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """TensorBoard's exponential smoothing, debiased, skipping NaNs."""
    out = np.empty_like(y, dtype=np.float64)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(y):
        if np.isfinite(v):
            acc = weight * acc + (1 - weight) * v
            norm = weight * norm + (1 - weight)
        out[i] = acc / norm if norm > 0 else np.nan
    return out


def _clean(values) -> list:
    """Floats for JSON: NaN and inf become None (gaps in the line), and about 4 significant digits keep ticks small.
    Short series are rounded per value (a log-scaled curve needs every value's own digits); long ones (the 2-D
    view's points and heatmap, values of order 1) are rounded as a whole in numpy, which is ~50x cheaper."""
    a = np.asarray(values, dtype=np.float64).ravel()
    if len(a) <= 500:
        return [None if not math.isfinite(v) else float(f"{v:.4g}") for v in a]
    finite = np.isfinite(a)
    peak = float(np.abs(a[finite]).max()) if finite.any() else 1.0
    decimals = int(np.clip(3 - np.floor(np.log10(peak)) if peak > 0 else 3, 0, 8))
    out = np.round(a, decimals).tolist()
    if not finite.all():
        out = [v if ok else None for v, ok in zip(out, finite.tolist())]
    return out


def _layout(title: str, *, ytitle: str = "", ylog: bool = False, yrange=None, height: int = 260, xtitle="step"):
    """Title on the first line of the top margin, the legend on the second: they never overlap."""
    layout = {
        "title": {"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"},
        "height": height, "margin": {"l": 52, "r": 14, "t": 58, "b": 38}, "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "uirevision": "keep",
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left", "font": {"size": 11}},
        "xaxis": {"title": {"text": xtitle}, "gridcolor": "rgba(128,128,128,0.2)", "zeroline": False},
        "yaxis": {"title": {"text": ytitle}, "gridcolor": "rgba(128,128,128,0.2)", "zeroline": False},
        "hovermode": "x unified",
    }
    if ylog:
        layout["yaxis"]["type"] = "log"
    if yrange is not None:
        layout["yaxis"]["range"] = list(yrange)
    return layout


def tick_text(v: float) -> str:
    """A tick label that reads alone: 0.001, 0.02, 5, 300, 2e+04 and 1e-05 (never a bare "2" or "5" that means
    2x the decade it sits in, plotly's minor log labels)."""
    return f"{v:g}" if 1e-4 <= v < 1e5 else f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e+")


def log_ticks(axis: dict, values) -> None:
    """Explicit ticks for a log axis, each labelled in full: the decades (1, 10, 100 x 10^k), also 2 and 5 of each
    when the values span two decades, and 1.5, 2, 3, 5, 7 when they sit within one. Far fewer labels than plotly's own on a tall range,
    so they never collide; a range of many decades is labelled every other decade."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return
    low, high = int(np.floor(np.log10(v.min()))), int(np.ceil(np.log10(v.max())))
    high = max(high, low + 1)
    mantissas = (1, 1.5, 2, 3, 5, 7) if high - low == 1 else (1, 2, 5) if high - low == 2 else (1,)
    every = 1 if high - low <= 5 else 2
    ticks = [m * 10.0 ** e for e in range(low, high + 1) if (e - low) % every == 0 for m in mantissas]
    axis.update(tickmode="array", tickvals=[float(f"{t:.6g}") for t in ticks],
                ticktext=[tick_text(t) for t in ticks], minor={"showgrid": False})


def _line(x, y, name, colour, *, width=2.0, dash=None, opacity=1.0, show=True):
    line = {"color": colour, "width": width}
    if dash:
        line["dash"] = dash
    return {"type": "scattergl" if len(x) > 2000 else "scatter", "mode": "lines", "x": _clean(x), "y": _clean(y),
            "name": name, "line": line, "opacity": opacity, "showlegend": show, "hovertemplate": "%{y:.3g}"}


def _event_markers(events, layout: dict, x_max: float) -> None:
    """Dotted vertical lines at setting changes, labelled on the plot (marker_labels) and on hover (a marker at the
    top of each line carries the full text)."""
    shapes, xs, texts = [], [], []
    for e in list(events)[-MAX_EVENTS:]:
        if e.step > x_max + 1:
            continue
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": e.step, "x1": e.step, "y0": 0, "y1": 1,
                       "line": {"color": "rgba(120,120,120,0.55)", "width": 1, "dash": "dot"}})
        xs.append(e.step)
        texts.append(e.text)
    layout["shapes"] = layout.get("shapes", []) + shapes
    if xs:
        layout.setdefault("_event_trace", {"type": "scatter", "mode": "markers", "x": xs, "y": [1.0] * len(xs),
                                           "yaxis": "y2", "text": texts, "name": "setting changed",
                                           "marker": {"symbol": "triangle-down", "size": 9, "color": GREY},
                                           "hovertemplate": "step %{x}: %{text}<extra></extra>", "showlegend": False})
        layout["yaxis2"] = {"overlaying": "y", "range": [0, 1.05], "visible": False, "fixedrange": True}
    layout["annotations"] = layout.get("annotations", []) + marker_labels(xs, texts, x_max)


LABEL_GAP = 0.045   # labelled markers at least this share of the x range apart: 9 px text at a 300 px wide plot
LABEL_CHARS = 26


def marker_labels(steps: list, texts: list, x_max: float) -> list:
    """A short label on each setting-change marker, written up the line at the top of the plot, so what changed
    reads without hovering. Markers closer than LABEL_GAP of the x range share one label (the latest change and
    "+n": the others are on hover), so labels never overlap."""
    groups: list = []
    for step, text in zip(steps, texts):
        if groups and step - groups[-1][0] < LABEL_GAP * max(x_max, 1.0):
            groups[-1][1].append(text)
        else:
            groups.append((step, [text]))
    out = []
    for step, group in groups:
        label = group[-1] if len(group[-1]) <= LABEL_CHARS else group[-1][:LABEL_CHARS - 1] + "…"
        if len(group) > 1:
            label += f" (+{len(group) - 1})"
        out.append({"text": label, "x": step, "xref": "x", "y": 0.97, "yref": "paper", "yanchor": "top",
                    "xanchor": "right", "textangle": -90, "showarrow": False, "font": {"size": 9, "color": GREY},
                    "name": "setting change"})
    return out


def _finish(data: list, layout: dict) -> dict:
    extra = layout.pop("_event_trace", None)
    if extra:
        data = data + [extra]
    return {"data": data, "layout": layout}


def _series(metrics: dict, key: str):
    x = metrics.get("step", np.zeros(0))
    return _bin_mean(x, metrics.get(key, np.zeros(0)))


def empty_figure(title: str, message: str, height: int = 260) -> dict:
    layout = _layout(title, height=height)
    layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
    layout["annotations"] = [{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5,
                              "y": 0.5, "font": {"size": 13, "color": GREY}}]
    return {"data": [], "layout": layout}


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
    if schedules:
        layout["yaxis4"] = {"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
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
    layout = _layout("D(x) and D(G(z)): both head for 0.5", ytitle="D's output", yrange=(0, 1))
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                         "line": {"color": GREY, "width": 1.5, "dash": "dash"}}]
    layout["annotations"] = [{"text": "equilibrium 0.5", "xref": "paper", "x": 0.01, "y": 0.5, "yanchor": "bottom",
                              "showarrow": False, "font": {"size": 10, "color": GREY}, "xanchor": "left"}]
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


def _percent_layout(title: str, ytitle: str, right_title: str) -> dict:
    """A 0-100 % axis on the left and a second axis from 0 on the right (the translation families' quality)."""
    layout = _layout(title, ytitle=ytitle)
    layout["yaxis"]["range"] = [0, 100]
    layout["yaxis2"] = {"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                        "title": {"text": right_title}}
    layout["margin"]["r"] = 56
    return layout


def quality_figure(history: list, kind: str, reference: dict | None = None) -> dict:
    """Quality over time: modes and % high quality (mixtures), or classes and FD (digits)."""
    if not history:
        return empty_figure("Quality", "Measured every few seconds while training runs.")
    steps = [h["step"] for h in history]
    if kind == "mixture":
        k = history[-1].get("num_modes", 8)
        data = [_line(steps, [h["modes"] for h in history], f"modes captured (of {k})", REAL),
                {**_line(steps, [h["high_quality"] for h in history], "% high quality", FAKE), "yaxis": "y2"}]
        layout = _layout("Modes captured and % high quality", ytitle="modes")
        layout["yaxis"]["range"] = [0, k + 0.5]
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, 100], "tickmode": "linear", "dtick": 25,
                            "showgrid": False, "title": {"text": "% high quality"}}
        layout["margin"]["r"] = 56  # room for the right axis' title and ticks
        refs = [(name, hq) for name, (modes, hq, _) in (reference or {}).items()
                if name.startswith("PacGAN4") or name.startswith("GAN (")]
        for i, (name, hq) in enumerate(refs):  # labels alternate right and left: close values never overlap
            layout.setdefault("shapes", []).append(
                {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": hq, "y1": hq,
                 "line": {"color": GREY, "width": 1, "dash": "dot"}})
            layout.setdefault("annotations", []).append(
                {"text": f"{name}: {hq}%", "xref": "paper", "x": 0.99 if i % 2 == 0 else 0.01,
                 "xanchor": "right" if i % 2 == 0 else "left", "yref": "y2", "y": hq,
                 "yanchor": "bottom", "showarrow": False, "font": {"size": 10, "color": GREY}})
        return {"data": data, "layout": layout}
    if kind == "digits":
        floor = history[-1].get("fd_floor")
        data = [_line(steps, [h["fd"] for h in history], "FD (classifier features)", DISC),
                {**_line(steps, [h["classes"] for h in history], "classes present", REAL), "yaxis": "y2"}]
        layout = _layout("FD (classifier features) and classes present", ytitle="FD (lower is better)", ylog=True)
        log_ticks(layout["yaxis"], [h["fd"] for h in history] + [floor or None])
        num_classes = len(history[-1].get("class_histogram") or []) or 10
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, num_classes + 0.5], "tickmode": "linear",
                            "tick0": 0,
                            "dtick": 2, "showgrid": False, "title": {"text": "classes"}}
        layout["margin"]["r"] = 56
        if floor:
            layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": floor, "y1": floor,
                                 "line": {"color": GREY, "width": 1, "dash": "dot"}}]
            layout["annotations"] = [{"text": f"real-vs-real floor {floor:.1f}", "xref": "paper", "x": 0.01,
                                      "xanchor": "left", "y": math.log10(floor), "yanchor": "bottom",
                                      "showarrow": False, "font": {"size": 10, "color": GREY}}]
        return {"data": data, "layout": layout}
    if kind == "translation":
        data = [_line(steps, [100 * h["accuracy"] for h in history], "classifier reads the source digit (%)", REAL),
                {**_line(steps, [h["psnr"] for h in history], "PSNR (dB)", DISC), "yaxis": "y2"},
                {**_line(steps, [10 * h["ssim"] for h in history], "SSIM x 10", FAKE, dash="dot"), "yaxis": "y2"}]
        layout = _percent_layout("Held-out pairs: outputs read as their digit, PSNR, SSIM", "% read correctly", "PSNR dB, SSIM x 10")
        return {"data": data, "layout": layout}
    if kind == "cycle":
        data = [_line(steps, [100 * h["label_ab"] for h in history], "A→B read as its digit (%)", REAL),
                _line(steps, [100 * h["label_ba"] for h in history], "B→A read as its digit (%)", REAL, dash="dash"),
                {**_line(steps, [h["cycle_aba"] for h in history], "cycle L1 A→B→A", DISC), "yaxis": "y2"},
                {**_line(steps, [h["l1_ab"] for h in history], "L1 to the true B", FAKE, dash="dot"), "yaxis": "y2"}]
        layout = _percent_layout("Held-out digits: kept their class, cycle and target L1", "% read correctly", "L1 (lower is better)")
        return {"data": data, "layout": layout}
    if kind == "styles":
        data = [_line(steps, [100 * h["content"] for h in history], "content kept: read as its digit (%)", REAL),
                _line(steps, [100 * h["style_match"] for h in history], "style match (%)", FAKE),
                {**_line(steps, [h["change"] for h in history], "change (1 = as much as the true style)", DISC,
                         dash="dot"), "yaxis": "y2"}]
        layout = _percent_layout("Held-out digits in every style: content kept, style match", "%", "change")
        return {"data": data, "layout": layout}
    if kind == "superres":
        data = [_line(steps, [100 * h["accuracy"] for h in history], "SRGAN read as its digit (%)", REAL),
                _line(steps, [100 * h["bicubic_accuracy"] for h in history], "bicubic read as its digit (%)", GREY,
                      dash="dash"),
                _line(steps, [100 * h["sharpness"] for h in history], "SRGAN edge strength (% of real)", FAKE,
                      dash="dot"),
                {**_line(steps, [h["psnr"] for h in history], "SRGAN PSNR (dB)", DISC), "yaxis": "y2"},
                {**_line(steps, [h["bicubic_psnr"] for h in history], "bicubic PSNR (dB)", DISC, dash="dash",
                         width=1.0), "yaxis": "y2"}]
        layout = _percent_layout("Held-out digits: SRGAN against bicubic", "%", "PSNR dB")
        layout["yaxis"]["range"] = [0, 120]   # edge strength can pass 100% (noisy or over-sharp strokes)
        return {"data": data, "layout": layout}
    if kind == "points":   # spiral, moons, the visitor's own points: energy distance (playground/figures_2d.py)
        from playground.figures_2d import points_quality_figure
        return points_quality_figure(history)
    if kind == "progan":
        return _progan_quality(history, steps)
    if kind == "coupled":
        data = [_line(steps, [100 * h["class_agreement"] for h in history], "pairs read as one digit (%)", REAL),
                _line(steps, [100 * h["class_agreement_unpaired"] for h in history], "… with partners shuffled (%)",
                      REAL, dash="dot"),
                _line(steps, [100 * h["pixel_agreement"] for h in history], "pixel agreement with T(G1(z)) (%)", FAKE),
                {**_line(steps, [h["classes"] for h in history], "digit classes present", DISC, dash="dash"),
                 "yaxis": "y2"}]
        layout = _percent_layout("CoGAN pairs: one digit in both domains?", "%", "classes")
        layout["yaxis2"].pop("rangemode")
        layout["yaxis2"].update(range=[0, 10.5], dtick=2)
        return {"data": data, "layout": layout}
    if kind == "video":
        data = [_line(steps, [100 * h["accuracy"] for h in history], "frames read as the clip's digit (%)", REAL),
                _line(steps, [100 * h["kept"] for h in history], "clips keeping one class (%)", FAKE),
                {**_line(steps, [h["warp"] for h in history], "warp error (flicker; real clips 0)", DISC, dash="dot"),
                 "yaxis": "y2"},
                {**_line(steps, [h["l1"] for h in history], "L1 to the real frames", GREY, dash="dash"),
                 "yaxis": "y2"}]
        layout = _percent_layout("Held-out clips: digit read and kept, flicker, L1", "%", "warp error, L1")
        return {"data": data, "layout": layout}
    return empty_figure("Quality", history[-1].get("note", "No quality metric for this dataset."))


def _progan_quality(history: list, steps: list) -> dict:
    """Progressive GAN: FD in the classifier's features (digits) and SWD per Laplacian level, both at 32 px, on a
    log axis; the real-vs-real floors dotted; the level each measurement saw on hover."""
    where = [f"{h['resolution']} px, alpha {h['alpha']:.2f}" for h in history]
    data = []
    if "fd" in history[-1]:
        data.append({**_line(steps, [h.get("fd") for h in history], "FD (classifier features)", DISC),
                     "customdata": where, "hovertemplate": "%{y:.3g} (%{customdata})"})
    for key, name, dash in (("swd_32", "SWD x1e3, 32 px band", None), ("swd_16", "SWD x1e3, 16 px low-pass", "dot")):
        data.append(_line(steps, [h.get(key) for h in history], name, FAKE, dash=dash))
    layout = _layout("Quality at 32 px: FD and sliced Wasserstein distance", ytitle="lower is better", ylog=True)
    last, shapes, notes = history[-1], [], []
    log_ticks(layout["yaxis"], [v for t in data for v in t["y"]] + [last.get("fd_floor"), last.get("swd_floor")])
    for key, name in (("fd_floor", "FD floor"), ("swd_floor", "SWD floor")):
        if last.get(key):
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": last[key], "y1": last[key],
                           "line": {"color": GREY, "width": 1, "dash": "dot"}})
            notes.append({"text": f"real-vs-real {name} {last[key]:.1f}", "xref": "paper", "x": 0.01 if not notes else 0.99,
                          "xanchor": "left" if not notes else "right", "y": math.log10(last[key]), "yanchor": "bottom",
                          "showarrow": False, "font": {"size": 10, "color": GREY}})
    layout["shapes"], layout["annotations"] = shapes, notes
    return {"data": data, "layout": layout}


def class_accuracy_figure(accuracy: list, class_names=None) -> dict:
    """Translation: the share of each class's held-out outputs that the classifier reads as that class."""
    names = list(class_names or [str(i) for i in range(len(accuracy))])
    data = [{"type": "bar", "x": names, "y": _clean([a if a is not None else float("nan") for a in accuracy]),
             "marker": {"color": REAL}, "hovertemplate": "digit %{x}: %{y:.0%} read correctly<extra></extra>",
             "name": "read correctly"}]
    layout = _layout("Outputs read as their source digit, by class", xtitle="class", ytitle="share", height=220)
    layout["hovermode"] = "closest"
    layout["yaxis"]["range"] = [0, 1]
    layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}


def per_style_figure(per_style: dict) -> dict:
    """Style transfer: content kept and style match of each style's held-out outputs."""
    names = list(per_style)
    data = [{"type": "bar", "x": names, "y": _clean([per_style[n]["content"] for n in names]), "name": "content kept",
             "marker": {"color": REAL}, "hovertemplate": "%{x}: %{y:.0%} read as their digit<extra></extra>"},
            {"type": "bar", "x": names, "y": _clean([per_style[n]["style"] for n in names]), "name": "style match",
             "marker": {"color": FAKE}, "hovertemplate": "%{x}: style named %{y:.0%}<extra></extra>"}]
    layout = _layout("By style: content kept and style match", xtitle="style", ytitle="share", height=220)
    layout["hovermode"] = "closest"
    layout["yaxis"]["range"] = [0, 1]
    layout["barmode"] = "group"
    return {"data": data, "layout": layout}


def class_histogram_figure(hist: list | None, class_names=None, *, note: str = "", unrecognisable=None) -> dict:
    """The mode-collapse meter for digits: the share of generated samples the classifier puts in each class, and
    (when measured) a grey "?" bar for the samples it recognises as no digit (ganengine.metrics.digits)."""
    if not hist:
        return empty_figure("Generated digits by class", note or "Appears with the first quality measurement.", 220)
    names = list(class_names or [str(i) for i in range(len(hist))])
    share = 1.0 if unrecognisable is None else 1.0 - float(unrecognisable)
    data = [{"type": "bar", "x": names, "y": _clean([h * share for h in hist]), "marker": {"color": FAKE},
             "hovertemplate": "class %{x}: %{y:.1%}<extra></extra>", "name": "generated"}]
    if unrecognisable is not None:
        data.append({"type": "bar", "x": ["?"], "y": [float(unrecognisable)], "marker": {"color": GREY},
                     "hovertemplate": "no recognisable digit: %{y:.1%}<extra></extra>", "name": "unrecognisable"})
    layout = _layout(f"Generated samples by class (balanced: ~{100 / len(hist):.0f}% each)", xtitle="class",
                     ytitle="share", height=220)
    layout["hovermode"] = "closest"
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 1 / len(hist), "y1": 1 / len(hist),
                         "line": {"color": GREY, "width": 1, "dash": "dash"}}]
    layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}
