"""Drawn 2-D data for the Train tab, as plain functions over a TrainService (no Gradio here, so unit-testable).

A drawing (a Gradio Sketchpad value) becomes a point cloud (ganengine.data.drawn), is written as a CSV into the
visitor's private folder and trains through the same path as an uploaded CSV (data "points"), with the spiral
preset's settings (a thin curve, like most drawings). A checkpoint of such a run carries its points
(ganengine.checkpoint_points), and continuing it here writes them back into the visitor's folder.
"""
from __future__ import annotations

from typing import Optional

from ganengine.checkpoint_points import checkpoint_points
from ganengine.config import ConfigError
from ganengine.data.drawn import EXTENT, drawing_to_points, write_points_file
from ganengine.presets import get_preset
from ganengine.render import scatter_image
from playground.form_values import public_text
from playground.replies import Reply, refused
from playground.sketch_input import editor_image
from playground.views import image_html
from playground.visitor_files import visitor_dir

DRAWN_PRESET = "spiral"   # whose settings a drawing trains with: the 2-D MLP pair tuned for curves
BOUNDS = (-EXTENT, EXTENT, -EXTENT, EXTENT)


def drawn_points(value, seed: int = 0):
    """A Sketchpad value -> float32 (N, 2) points; ConfigError (one sentence) for an empty or unusable drawing."""
    try:
        image = editor_image(value)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if image is None:
        raise ConfigError("the canvas is empty: draw some strokes first")
    return drawing_to_points(image, seed=seed)


def preview_html(value) -> str:
    """The points a drawing becomes, drawn on the canvas's own scale (x and y from -EXTENT to EXTENT)."""
    try:
        points = drawn_points(value)
    except ConfigError as err:
        return f'<div class="gp-empty">{public_text(err)}</div>'
    picture = scatter_image(points, None, BOUNDS, size=240)
    return image_html(picture, f"{len(points):,} points sampled along your strokes; the canvas spans x and y from "
                               f"{-EXTENT:g} to {EXTENT:g}", alt="drawn points")


def drawing_setup(seed: int = 0) -> dict:
    """The setup a drawing trains with: the spiral preset's fields and knobs on data "points"."""
    config, knobs = get_preset(DRAWN_PRESET).build()
    return {**config.to_dict(), **knobs.to_dict(), "data": "points", "seed": int(seed)}


def train_on_drawing(service, sid: str, value, seed: int = 0) -> tuple[Optional[dict], Reply]:
    """Rebuild the visitor's run on their drawing and start it. Returns (the setup, for the form; or None) and the
    reply."""
    try:
        points = drawn_points(value, seed)
    except ConfigError as err:
        return None, refused(f"⚠ {public_text(err)}")
    path = write_points_file(points, visitor_dir(service.registry.session(sid)))
    setup = drawing_setup(seed)
    answer = service.apply_setup(sid, setup, points_path=str(path), base=setup)
    if not answer.ok:
        return None, answer
    started = service.start(sid)
    if not started.ok:
        return setup, started
    return setup, Reply(f"Training on your drawing ({len(points):,} points). {started}", True)


def checkpoint_data(ckpt: dict, config, session):
    """(config, None) with the data a checkpoint's run needs on this server, or (None, a refusal). A run on the
    visitor's own points continues from the points the checkpoint carries, written into this visitor's folder."""
    if config.points_path:
        points = checkpoint_points(ckpt)
        if points is not None:
            path = write_points_file(points, visitor_dir(session), stem="restored")
            return config.with_changes(points_path=str(path)), None
    if config.points_path or config.folder_path:
        return None, refused("⚠ this checkpoint trained on data uploaded to another page, and the checkpoint holds "
                             "no data: continue it with the CLI (python -m ganengine train --resume FILE --points ...).")
    return config, None
