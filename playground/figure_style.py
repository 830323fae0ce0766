"""The plotting kit every figure module shares: GAN Lab's colours, downsampling and smoothing of curves, the common
layout, log-axis ticks, line traces and the setting-change markers. Pure functions over JSON-able dicts: no Gradio,
no torch.

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


def _percent_layout(title: str, ytitle: str, right_title: str) -> dict:
    """A 0-100 % axis on the left and a second axis from 0 on the right (the translation families' quality)."""
    layout = _layout(title, ytitle=ytitle)
    layout["yaxis"]["range"] = [0, 100]
    layout["yaxis2"] = {"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                        "title": {"text": right_title}}
    layout["margin"]["r"] = 56
    return layout
