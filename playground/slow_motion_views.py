"""How a slow-motion stage (ganengine.slow_motion_stages.Stage) is drawn: plotly figures as dicts, HTML for images.

Pure functions, no Gradio. Colours are GAN Lab's (playground.figures): real green, fake purple, D blue, gradients
magenta. Each stage also outlines the Train tab's views it changes (STAGE_VIEWS) with a <style> rule.
"""
from __future__ import annotations

import html

import numpy as np

from ganengine.render import image_grid
from playground import figures
from playground.figures import DISC, FAKE, FIELD_SCALE, GRAD, GREY, REAL, _clean, _layout
from playground.views import data_uri, image_html

# The Train tab's views each kind of stage changes (their elem_ids), outlined while the stage is shown.
STAGE_VIEWS = {"sample": ("gp-grid",), "classify": ("gp-plot-dprob", "gp-plot-panel"), "loss": ("gp-plot-losses",),
               "gradients": ("gp-plot-grad",), "update": ("gp-grid", "gp-plot-panel")}
VIEW_NAMES = {"gp-grid": "the samples", "gp-plot-dprob": "the D(x) curves", "gp-plot-panel": "D's verdicts",
              "gp-plot-losses": "the loss curves", "gp-plot-grad": "the gradient norms"}
PHASE_COLOUR = {"D": DISC, "G": FAKE}


def header_markdown(stage) -> str:
    phase = "D phase: train the discriminator" if stage.phase == "D" else "G phase: train the generator"
    return f"**{phase} · stage {stage.number} of {stage.total}: {stage.title}**\n\n{stage.text}"


def progress_html(stages, index: int) -> str:
    """A strip of numbered chips, one per stage, D's blue and G's purple; the current one filled."""
    chips = []
    for i, s in enumerate(stages):
        colour = PHASE_COLOUR[s.phase]
        fill = f"background:{colour};color:white" if i == index else f"color:{colour}"
        chips.append(f'<span class="gp-sm-chip" title="{html.escape(s.title)}" style="border-color:{colour};{fill}">'
                     f'{s.phase}{i + 1}</span>')
    return f'<div class="gp-sm-progress">{"".join(chips)}</div>'


def highlight_css(stage) -> str:
    """A <style> that outlines the Train tab's views this stage changes, and a line naming them."""
    ids = STAGE_VIEWS.get(stage.kind, ())
    rules = "".join(f"#{i}{{outline:3px solid {GRAD};outline-offset:2px;border-radius:6px}}" for i in ids)
    names = ", ".join(VIEW_NAMES[i] for i in ids)
    return f"<style>{rules}</style><p class='gp-sm-note'>On the page this stage changes {names} (outlined).</p>"


def _tile(image: np.ndarray, score=None, label: str = "") -> str:
    """One image with D's score under it, its border green (D says real) to purple (D says fake)."""
    grid = image_grid(image[None], nrow=1, pad=0, scale=2)
    border = GREY if score is None else (REAL if score >= 0.5 else FAKE)
    caption = label if score is None else f"{label}D = {score:.2f}"
    return (f'<figure class="gp-sm-tile" style="border-color:{border}">'
            f'<img class="gp-pixelated" alt="{label or "sample"}" src="{data_uri(grid)}"/>'
            f'<figcaption>{caption}</figcaption></figure>')


def images_html(images: dict | None) -> str:
    """The stage's images: fakes (and reals) with D's score each, or G's samples before and after its update."""
    if not images:
        return ""
    if "before" in images:
        nrow = len(images["before"])
        return (image_html(image_grid(images["before"], nrow=nrow, scale=2), "before G's update", alt="before") +
                image_html(image_grid(images["after"], nrow=nrow, scale=2), "after: the same inputs through the new G",
                           alt="after"))
    parts = []
    for key, label in (("real", "real"), ("fake", "fake")):
        batch = images.get(key)
        if batch is None:
            continue
        scores = images.get(f"{key}_scores")
        tiles = "".join(_tile(batch[i], None if scores is None else float(scores[i])) for i in range(len(batch)))
        parts.append(f'<div class="gp-sm-row"><b>{label}</b><div class="gp-sm-tiles">{tiles}</div></div>')
    return "".join(parts)


def points_figure(points: dict, bounds: tuple, title: str) -> dict:
    """The 2-D view of a stage: D's heat field, the batch's real and fake points, G's push, D's 0.5 line before."""
    xmin, xmax, ymin, ymax = bounds
    data = []
    if points.get("heat") is not None:
        data.append({"type": "heatmap", "x": _clean(points["xs"]), "y": _clean(points["ys"]),
                     "z": np.round(np.asarray(points["heat"], dtype=np.float64), 2).tolist(), "zmin": 0, "zmax": 1,
                     "colorscale": FIELD_SCALE, "opacity": 0.55, "colorbar": {"title": {"text": "D(x)"},
                                                                             "thickness": 10, "len": 0.8},
                     "hovertemplate": "D(%{x:.2f}, %{y:.2f}) = %{z:.2f}<extra></extra>", "name": "D(x)"})
    if points.get("heat_before") is not None:
        data.append({"type": "contour", "x": _clean(points["xs"]), "y": _clean(points["ys"]),
                     "z": np.round(np.asarray(points["heat_before"], dtype=np.float64), 3).tolist(),
                     "contours": {"start": 0.5, "end": 0.5, "size": 1, "coloring": "lines"}, "showscale": False,
                     "line": {"color": GREY, "dash": "dash", "width": 2}, "name": "D = 0.5 before",
                     "showlegend": True, "hoverinfo": "skip"})
    for key, name, colour, size, opacity in (("fake_before", "fake before", FAKE, 5, 0.25),
                                             ("fake", "fake", FAKE, 6, 0.8), ("real", "real", REAL, 4, 0.9)):
        pts = points.get(key)
        if pts is not None and len(pts):
            data.append({"type": "scatter", "mode": "markers", "x": _clean(pts[:, 0]), "y": _clean(pts[:, 1]),
                         "name": name, "marker": {"color": colour, "size": size, "opacity": opacity},
                         "hoverinfo": "skip"})
    push, fake = points.get("push"), points.get("fake")
    if push is not None and fake is not None and len(fake):
        norms = np.linalg.norm(push, axis=1)
        scale = 0.08 * max(xmax - xmin, ymax - ymin) / max(float(np.percentile(norms, 90)), 1e-12)
        tips = fake + np.clip(push * scale, -(xmax - xmin), xmax - xmin)
        nan = np.full(len(fake), np.nan)
        data.append({"type": "scatter", "mode": "lines", "name": "G's push (-dL_G/dx)", "hoverinfo": "skip",
                     "x": _clean(np.stack([fake[:, 0], tips[:, 0], nan], 1).ravel()),
                     "y": _clean(np.stack([fake[:, 1], tips[:, 1], nan], 1).ravel()),
                     "line": {"color": GRAD, "width": 1.5}})
    layout = _layout(title, xtitle="x1", ytitle="x2", height=360)
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [xmin, xmax], [ymin, ymax]
    layout["yaxis"]["scaleanchor"] = "x"
    layout["hovermode"] = "closest"
    return {"data": data, "layout": layout}


def bars_figure(title: str, items: list, colour: str) -> dict:
    """A horizontal bar per layer (gradient norm or weight change), the first layer on top."""
    names = [n for n, _ in items][::-1]
    values = [v for _, v in items][::-1]
    layout = _layout(title, xtitle="", height=max(220, 60 + 18 * len(items)))
    layout["yaxis"]["automargin"] = True
    layout["hovermode"] = "closest"
    layout["margin"]["l"] = 10
    return {"data": [{"type": "bar", "orientation": "h", "x": _clean(values), "y": names, "marker": {"color": colour},
                      "hovertemplate": "%{y}: %{x:.3g}<extra></extra>", "name": title}], "layout": layout}


def loss_figure(loss: dict) -> dict:
    """This update's loss, and its parts where the family has several."""
    names = [f"L_{loss['who']}"] + [k.split("/", 2)[2] for k in loss["terms"]]
    values = [loss["total"]] + list(loss["terms"].values())
    colour = PHASE_COLOUR[loss["who"]]
    layout = _layout(f"{loss['who']}'s loss this iteration", xtitle="", ytitle="value", height=260)
    layout["hovermode"] = "closest"
    return {"data": [{"type": "bar", "x": names, "y": _clean(values), "marker": {"color": colour},
                      "text": [f"{v:.3f}" for v in values], "textposition": "auto", "name": "loss"}], "layout": layout}


def stage_figures(stage, bounds: tuple) -> tuple:
    """(main figure or None, side figure): main is the 2-D view where the stage has one; side is the histogram,
    the loss, or the per-layer bars."""
    d = stage.data
    main = points_figure(d["points"], bounds, f"{stage.phase}{stage.number}: data space") if "points" in d else None
    colour = PHASE_COLOUR[stage.phase]
    if "hist" in d:
        hist = {"real": d["hist"].get("real", np.zeros(0)), "fake": d["hist"]["fake"]}
        side = figures.dhist_figure(hist)
        side["layout"]["title"]["text"] = "D's verdicts on this batch"
    elif "loss" in d:
        side = loss_figure(d["loss"])
    elif "bars" in d:
        side = bars_figure(d["bars"]["title"], d["bars"]["items"], GRAD if stage.kind == "gradients" else colour)
    else:
        side = figures.empty_figure("This stage", "Nothing to plot: the samples are in the picture.")
    for fig in (main, side):   # each stage starts from its own axes (a kept zoom would carry the last stage's range)
        if fig is not None:
            fig["layout"]["uirevision"] = f"stage-{stage.number}"
    return main, side
