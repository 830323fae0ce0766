"""How the Train tab shows a snapshot in words and pictures: counter, status line, diagnoses, inline images."""
from __future__ import annotations

import base64
import html
import math
from typing import Optional

import numpy as np

from ganengine.families import family_class
from ganengine.metrics.diagnostics import diagnose, last_change
from ganengine.render import gif_bytes, png_bytes

ANIMATION_MS = 150  # per frame of a view that is an animation


def data_uri(image: np.ndarray) -> str:
    """An image (H, W, 3) as a PNG data URI; an animation (T, H, W, 3), a view's frames, as a looping GIF."""
    if image.ndim == 4:
        return "data:image/gif;base64," + base64.b64encode(gif_bytes(list(image), duration_ms=ANIMATION_MS,
                                                                     max_side=1024)).decode("ascii")
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def image_html(image: Optional[np.ndarray], caption: str = "", *, alt: str = "samples",
               columns: Optional[list] = None) -> str:
    """A view as a figure: a uint8 image (H, W, 3), or an animation (T, H, W, 3) shown as a looping GIF.
    columns: a label over each of the grid's equal columns (a conditional GAN's classes), or None."""
    if image is None:
        return f'<div class="gp-empty">{caption}</div>'
    h, w = image.shape[-3:-1]
    wide = ' style="max-width: 100%"' if w > 2 * h else ""  # strips use the width
    img = f'<img class="gp-pixelated" alt="{alt}"{wide} src="{data_uri(image)}"/>'
    if columns:
        heads = "".join(f"<span>{html.escape(str(c))}</span>" for c in columns)
        img = (f'<div class="gp-labelled"><div class="gp-columns" aria-label="column classes" '
               f'style="grid-template-columns: repeat({len(columns)}, 1fr)">{heads}</div>{img}</div>')
    return f'<figure class="gp-figure">{img}<figcaption>{caption}</figcaption></figure>'


def column_labels(visuals: dict, view: str) -> Optional[list]:
    """The labels a family gave a view's columns (the cGAN grid: one class per column), or None."""
    return (visuals.get("column_labels") or {}).get(view)


def views_html(visuals: dict) -> str:
    """A family's named views at one step, each with its caption; views[0] (the timeline frame) first."""
    captions = visuals.get("captions", {})
    return "".join(image_html(visuals[name], f"step {visuals['step']:,}: {captions.get(name, name)}", alt=name,
                              columns=column_labels(visuals, name))
                   for name in visuals.get("views", ()) if visuals.get(name) is not None)


def counter_text(snap) -> str:
    if snap is None:
        return "Step **0**"
    rate = snap.steps_per_sec
    rate_text = f" · {rate:,.0f} it/s" if rate and math.isfinite(rate) else ""
    minutes, seconds = divmod(int(snap.train_seconds), 60)
    return f"Step **{snap.step:,}**{rate_text} · {minutes}:{seconds:02d} trained"


def status_text(snap) -> str:
    icon = {"running": "▶ Training", "paused": "❚❚ Paused", "ready": "Ready", "finished": "■ Finished",
            "stopped": "■ Stopped"}.get(snap.status, snap.status)
    model = family_class(snap.config.family).describe(snap.config)
    parts = [f"**{icon}** · {snap.spec.title} · {model} · loss {snap.knobs.loss}"]
    if snap.message:
        parts.append(snap.message)
    return "  \n".join(parts)


def diagnosis_text(snap) -> str:
    found = diagnose(snap.metrics, list(snap.quality), snap.events, snap.knobs.loss)
    change = last_change(snap.events)
    since = f" (since your last change: {change})" if change else ""
    if not found:
        if snap.step < 200:
            return "**Diagnosis:** none yet: give it a few hundred steps."
        return f"**Diagnosis: ✓ nothing alarming**{since}: no divergence, no collapse, D is not running away."
    lines = []
    for d in found:
        after = f"After {d.after}: " if d.after else "With the preset's settings (none changed): "
        lines.append(f"**⚠ {d.title}**  \n{after}{d.evidence}  \nTry: {d.suggestion}")
    return "\n\n".join(lines)
