"""Quality figures: each family's quality over the run, drawn by the `kind` its quality job reports (mixture, digits,
translation, cycle, styles, superres, points, progan, coupled, video), and the per-class / per-style bars beside it.
Pure functions over JSON-able dicts, as playground/figures.py."""
from __future__ import annotations

import math

from playground.figure_style import (DISC, FAKE, GREY, REAL, _clean, _layout, _line, _percent_layout, empty_figure,
                                     log_ticks)

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
        # The papers' figures are legend entries, not labels on the plot: two labels 2% apart overlapped on a
        # 390 px phone (seen in the issue-15 Chromium pass); the legend wraps under the plot there.
        for name, hq in refs:
            data.append({**_line([steps[0], steps[-1]], [hq, hq], f"{name} paper: {hq}%", GREY,
                                 width=1.0, dash="dot" if name.startswith("PacGAN") else "dash"),
                         "yaxis": "y2", "hoverinfo": "skip"})
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
