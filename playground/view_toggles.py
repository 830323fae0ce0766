"""The Train tab's view toggles: G's latent grid over the 2-D field (ganengine.manifold) and D's verdict on each
sample of an image grid (ganengine.sample_scores). Both are drawn by the render job anyway; a toggle only chooses
whether the page shows them, so it is remembered per visitor (Session.views) and the next refresh redraws."""
from __future__ import annotations

import gradio as gr

from ganengine.config import POINT_DATASETS
from ganengine.families import family_for_data
from playground.ui_common import guarded, session_id


def set_view(registry, sid: str, name: str, on: bool) -> str:
    """Remember a toggle and make the next refresh resend the views (playground/live_tick.py)."""
    s = registry.session(sid)
    s.views[name] = bool(on)
    s.sent.pop("visuals", None)
    return ""


def applies(data: str) -> dict:
    """Where each toggle means something: the latent grid on 2-D data; D's verdict per sample on the image grids
    of the gan family (the only render job that scores its grid: ganengine/families/gan.py, grid_scores)."""
    points = data in POINT_DATASETS
    try:
        gan = family_for_data(data) == "gan"
    except (KeyError, ValueError):
        gan = False
    return {"manifold": points, "scores": gan and not points}


def build_view_toggles(service, data: str) -> tuple:
    """The two checkboxes, each visible only where it applies to ``data`` (the preset's at first); returns them and
    ``updates(data)``, the visibility updates the tab sends when the dataset changes (a preset, a checkpoint)."""
    shown = applies(data)
    with gr.Row():
        manifold = gr.Checkbox(False, label="Show G's latent grid on the 2-D view (how G warps its noise)",
                               elem_id="gp-show-manifold", visible=shown["manifold"])
        scores = gr.Checkbox(False, label="Frame each image sample by D's verdict (hover for the score)",
                             elem_id="gp-show-scores", visible=shown["scores"])
    def toggle(name):
        @guarded(lambda msg: None)
        def handler(on, request: gr.Request):
            set_view(service.registry, session_id(request), name, on)
        return handler

    for box, name in ((manifold, "manifold"), (scores, "scores")):
        box.input(toggle(name), box, None, show_progress="hidden")

    def updates(data_now: str) -> dict:
        now = applies(data_now)
        return {manifold: gr.update(visible=now["manifold"]), scores: gr.update(visible=now["scores"])}
    return (manifold, scores), updates
