"""The sample grid with D's verdict on each sample: a coloured border per tile (the tint) and the score on hover.

The render job measured sigmoid(D(x)) for each fixed-noise sample (ganengine.sample_scores). Here each tile's
border, the grid's padding around it, takes the 2-D field's colours (playground/figures.py FIELD_SCALE): purple at 0
("fake"), light grey at 0.5, green at 1 ("real"); the border is widened from 2 to 3 px at 1x so it shows; and a
transparent grid of cells over the image carries each score as hover text (a title attribute).
"""
from __future__ import annotations

import html

import numpy as np

from playground.views import column_labels, data_uri, views_html

FAKE_RGB, MID_RGB, REAL_RGB = np.array([163, 62, 189]), np.array([235, 235, 235]), np.array([0, 136, 55])
BORDER = 3   # px at 1x around each tile


def verdict_colour(p: float) -> np.ndarray:
    """D's probability of "real" -> rgb: purple (0) -> light grey (0.5) -> green (1), linear in between."""
    p = float(np.clip(p, 0, 1))
    lo, hi, t = (FAKE_RGB, MID_RGB, 2 * p) if p < 0.5 else (MID_RGB, REAL_RGB, 2 * p - 1)
    return np.round(lo + t * (hi - lo)).astype(np.uint8)


def tinted_grid(grid: np.ndarray, scores: dict) -> np.ndarray:
    """Re-lay the tiles of an image_grid (pad 2) with a BORDER-px border in each sample's verdict colour."""
    h, w = scores["tile"]
    pad, ncol, probs = scores["pad"], scores["ncol"], scores["prob"]
    nrows = -(-len(probs) // ncol)
    b = BORDER
    out = np.full((nrows * (h + 2 * b), ncol * (w + 2 * b), 3), 255, np.uint8)
    for i, p in enumerate(probs):
        r, c = divmod(i, ncol)
        tile = grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w]
        y, x = r * (h + 2 * b), c * (w + 2 * b)
        out[y:y + h + 2 * b, x:x + w + 2 * b] = verdict_colour(p)
        out[y + b:y + b + h, x + b:x + b + w] = tile
    return out


def scored_views_html(visuals: dict, on: bool) -> str:
    """views_html, with the first view (the sample grid) tinted by D's verdicts and hoverable when ``on``."""
    scores = visuals.get("grid_scores")
    if not on or not scores or visuals.get("grid") is None:
        return views_html(visuals)
    probs = scores["prob"]
    ncol = scores["ncol"]
    nrows = -(-len(probs) // ncol)
    cells = "".join(f'<div title="{html.escape(f"sample {i + 1}: D says {p:.2f} real (logit {lg:+.2f})")}"></div>'
                    for i, (p, lg) in enumerate(zip(probs, scores["logit"])))
    overlay = (f'<div class="gp-scores" style="position:absolute;inset:0;display:grid;'
               f'grid-template-columns:repeat({ncol},1fr);grid-template-rows:repeat({nrows},1fr)">{cells}</div>')
    mean = float(np.mean(probs))
    caption = (f"step {visuals['step']:,}: G's fixed-noise samples, each framed by D's verdict: green = D says real, "
               f"purple = fake, grey = unsure (hover a sample for its score). D rates them {mean:.2f} on average.")
    image = tinted_grid(visuals["grid"], scores)
    rest = {**visuals, "views": tuple(v for v in visuals.get("views", ()) if v != "grid")}
    heads = column_labels(visuals, "grid")     # a conditional GAN's classes over its columns
    heads = ("" if not heads else '<div class="gp-columns" aria-label="column classes" style="grid-template-columns: '
             f'repeat({len(heads)}, 1fr); max-width:420px">' + "".join(f"<span>{html.escape(str(c))}</span>"
                                                                       for c in heads) + "</div>")
    return (f'<figure class="gp-figure" id="gp-scored-grid">{heads}<div style="position:relative;display:inline-block;'
            f'width:100%;max-width:420px"><img class="gp-pixelated" alt="samples tinted by D" style="display:block" '
            f'src="{data_uri(image)}"/>{overlay}</div><figcaption>{caption}</figcaption></figure>'
            + views_html(rest))
