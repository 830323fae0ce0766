"""Plotly figures for any 2-D data beyond the mixtures: the energy-distance quality plot and G's manifold drawn over
the field view. Pure functions over JSON-able dicts, like playground/figures.py (which calls them)."""
from __future__ import annotations

import math

import numpy as np

from playground.figures import DISC, FAKE, GREY, REAL, _clean, _line, _percent_layout

MESH = "rgba(60,60,60,0.55)"   # the manifold's lines: dark grey, under the points


def points_quality_figure(history: list) -> dict:
    """Energy distance (log axis, its real-vs-real floor dotted) and % precision / coverage over the run."""
    steps = [h["step"] for h in history]
    data = [{**_line(steps, [100 * h["coverage"] for h in history], "coverage: real points G reaches (%)", REAL)},
            {**_line(steps, [100 * h["precision"] for h in history], "precision: fakes on the data (%)", FAKE,
                     dash="dot")},
            {**_line(steps, [max(h["energy"], 1e-6) for h in history], "energy distance (lower is better)", DISC),
             "yaxis": "y2"}]
    layout = _percent_layout("Energy distance to the data, coverage, precision", "%", "energy distance")
    layout["yaxis2"].pop("rangemode")
    layout["yaxis2"].update(type="log", dtick=1, exponentformat="power")   # one tick per decade: 10^-3, 10^-2, ...
    floor = history[-1].get("energy_floor")
    if floor:
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": floor,
                             "y1": floor, "line": {"color": GREY, "width": 1, "dash": "dot"}}]
        layout["annotations"] = [{"text": f"real-vs-real floor {floor:.2g}", "xref": "paper", "x": 0.99,
                                  "xanchor": "right", "yref": "y2", "y": math.log10(floor), "yanchor": "bottom",
                                  "showarrow": False, "font": {"size": 10, "color": GREY}}]
    return {"data": data, "layout": layout}


def mesh_lines(points: np.ndarray) -> tuple[list, list]:
    """(S, S, 2) grid images -> x and y lists drawing every row and column as a polyline, NaN-separated."""
    pts = np.asarray(points, np.float64)
    s = pts.shape[0]
    gap = np.full((1, 2), np.nan)
    pieces = [np.concatenate([pts[i], gap]) for i in range(s)] + [np.concatenate([pts[:, j], gap]) for j in range(s)]
    line = np.concatenate(pieces)                     # (2 S (S + 1), 2)
    return _clean(line[:, 0]), _clean(line[:, 1])


def add_manifold(figure: dict, field: dict | None) -> dict:
    """Draw G's image of its latent grid (ganengine.manifold) over a field figure, under the points."""
    grid = (field or {}).get("manifold")
    if not grid or "data" not in figure:
        return figure
    xs, ys = mesh_lines(grid["points"])
    dims = grid["latent_dim"]
    name = "G's latent grid" if dims <= 2 else f"G's latent grid (z1, z2; other {dims - 2} dims at 0)"
    mesh = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": name,
            "line": {"color": MESH, "width": 1}, "hoverinfo": "skip"}
    figure["data"].insert(1, mesh)                    # over the heatmap, under the points and arrows
    return figure

