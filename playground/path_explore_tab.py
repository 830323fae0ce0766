"""The Explore tab's path panel: for a generator that renders clips along a path (vid2vid), pick a digit and a path
(bounce, circle, zig-zag) or draw one, and watch G render the clip as an animation. Shown only while such a
generator is the source. Only wiring lives here: ExploreService.path_clip (playground/path_explore.py) does the work.
The canvas is the Translate tab's Sketchpad (its measured behaviour: playground/translate_tab.py's docstring).
"""
from __future__ import annotations

import gradio as gr

from playground.editor_blobs import bound_blob_storage
from playground.explore_service import ExploreService
from playground.path_explore import MAX_FRAMES, PATH_CHOICES
from playground.sketch_input import BRUSH_RADIUS, CANVAS, ERASER_RADIUS
from playground.ui_common import guarded, session_id
from playground.views import image_html

HELP = ("**A digit along a path.** A vid2vid G draws each frame from the digit's edges at that frame's position and "
        "the frame it drew before, moved by the motion. Pick a held-out digit and a path, or draw one on the canvas "
        "(one stroke: where the digit's centre goes; the clip follows it from one end to the other, and renders when "
        "you release the mouse).")


def build_path_panel(service: ExploreService):
    """Lay the panel out (call inside the Explore tab); returns follow(event), which re-renders (or hides) the panel
    after an event that changed the generator."""
    with gr.Accordion("A digit along a path (video generators: vid2vid)", open=True, visible=False,
                      elem_id="gp-path-box") as box:
        gr.Markdown(HELP)
        with gr.Row(equal_height=False):
            digit = gr.Dropdown([str(i) for i in range(10)], value="3", label="Digit", elem_id="gp-path-digit")
            example = gr.Number(value=0, precision=0, minimum=0, maximum=49, label="Held-out example (0-49)")
            path = gr.Radio(PATH_CHOICES, value="bounce", label="Path", elem_id="gp-path-choice")
            frames = gr.Slider(4, MAX_FRAMES, value=16, step=1, label="Frames")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                sketch = gr.Sketchpad(canvas_size=(CANVAS, CANVAS), fixed_canvas=True, type="numpy",
                                      image_mode="RGBA", format="png", layers=False, transforms=(), buttons=[],
                                      brush=gr.Brush(colors=["#000000"], color_mode="fixed",
                                                     default_size=BRUSH_RADIUS),
                                      eraser=gr.Eraser(default_size=ERASER_RADIUS),
                                      label="Draw a path", elem_id="gp-path-sketch")
                bound_blob_storage(sketch)
                render = gr.Button("Render the clip", size="sm", elem_id="gp-path-render")
            with gr.Column(scale=2, min_width=320):
                clip = gr.HTML("", elem_id="gp-path-clip")

    inputs = [digit, example, path, frames, sketch]

    def clip_html(sid, digit_v, example_v, path_v, frames_v, drawing):
        try:
            pictures, caption = service.path_clip(sid, digit_v, example_v, path_v, frames_v, drawing)
        except ValueError as err:
            return f'<div class="gp-empty">⚠ {err}</div>'
        return image_html(pictures, caption, alt="clip along a path")

    @guarded(lambda msg: f'<div class="gp-empty">{msg}</div>')
    def on_path(digit_v, example_v, path_v, frames_v, drawing, request: gr.Request):
        return clip_html(session_id(request), digit_v, example_v, path_v, frames_v, drawing)

    @guarded(lambda msg: (gr.skip(), f'<div class="gp-empty">{msg}</div>'))
    def on_draw(digit_v, example_v, frames_v, drawing, request: gr.Request):
        """A finished stroke: follow the drawing."""
        if drawing is None or (isinstance(drawing, dict) and drawing.get("composite") is None):
            return gr.skip(), gr.skip()                                  # cleared: keep the last clip
        return "drawn", clip_html(session_id(request), digit_v, example_v, "drawn", frames_v, drawing)

    @guarded(lambda msg: (gr.skip(), f'<div class="gp-empty">{msg}</div>'))
    def on_generator(digit_v, example_v, path_v, frames_v, drawing, request: gr.Request):
        """A new generator: show the panel with its clip when it renders paths, hide it otherwise."""
        sid = session_id(request)
        try:
            paths = service.current(sid).paths
        except ValueError:
            paths = False
        if not paths:
            return gr.update(visible=False), ""
        return gr.update(visible=True), clip_html(sid, digit_v, example_v, path_v, frames_v, drawing)

    for comp in (digit, example, path, frames):
        comp.input(on_path, inputs, clip, show_progress="hidden", trigger_mode="always_last")
    render.click(on_path, inputs, clip)
    sketch.change(on_draw, [digit, example, frames, sketch], [path, clip], show_progress="hidden",
                  trigger_mode="always_last")

    def follow(event):
        event.then(on_generator, inputs, [box, clip], show_progress="hidden")
    return follow
