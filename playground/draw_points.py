"""The Train tab's "Draw your own 2-D data" panel (GAN Lab's "draw your own"): a canvas, the points it becomes, and
"Train on my drawing". Only wiring: playground/draw_service.py does the work; train_tab.py calls build_draw_points.

Gradio 6.31's Sketchpad (measured in playground/translate_tab.py): `.change` fires once per stroke, on release,
with the new drawing; no tool is selected when the canvas appears, so the brush is clicked when the panel opens.
"""
from __future__ import annotations

import gradio as gr

from ganengine.data.drawn import EXTENT
from playground.draw_service import preview_html, train_on_drawing
from playground.editor_blobs import bound_blob_storage
from playground.form_values import whole_number
from playground.ui_common import guarded, session_id

CANVAS = 300        # px: the canvas spans [-EXTENT, EXTENT] on both axes, so 75 px per unit
BRUSH_RADIUS = 6    # a 13 px stroke: a band about 0.17 units wide
ERASER_RADIUS = 14

SELECT_BRUSH_JS = """
() => {
  let tries = 0;
  const pick = () => {
    const root = document.querySelector('#gp-draw-canvas');
    const brush = root && root.querySelector('button[aria-label="Brush"]');
    const waiting = root && root.innerText.includes('select the draw tool');
    if (brush && waiting) { brush.click(); return; }
    if (++tries < 80) setTimeout(pick, 250);   // the brush can show before the prompt: wait for both (20 s)
  };
  setTimeout(pick, 100);
}
"""


def build_draw_points(service, *, seed, reply):
    """The panel, in the caller's layout. Returns wire(outputs, on_trained), to call once the form exists:
    on_trained(setup, sid) -> {component: update} for ``outputs`` (the setup form, so it shows what now trains)."""
    with gr.Accordion("Draw your own 2-D data", open=False, elem_id="gp-draw") as panel:
        gr.Markdown(f"Drag on the canvas to draw where your data lies; each stroke becomes a band of points "
                    f"(x and y run from {-EXTENT:g} to {EXTENT:g}, y upwards; release the mouse after each stroke). Then "
                    f"train a GAN on it.")
        canvas = gr.Sketchpad(canvas_size=(CANVAS, CANVAS), fixed_canvas=True, type="numpy", image_mode="RGBA",
                              format="png", layers=False, transforms=(), buttons=[],
                              brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=BRUSH_RADIUS),
                              eraser=gr.Eraser(default_size=ERASER_RADIUS), label="Your data",   # a longer label hid under the editor's toolbar
                              elem_id="gp-draw-canvas")
        bound_blob_storage(canvas)
        preview = gr.HTML('<div class="gp-empty">Your points appear here as you draw.</div>',
                          elem_id="gp-draw-preview")
        train = gr.Button("Train on my drawing", variant="primary", elem_id="gp-draw-train")
        message = gr.Markdown("", elem_id="gp-draw-msg")

    def wire(outputs: list, on_trained) -> None:
        _wire(service, panel, canvas, preview, train, message, seed, reply, outputs, on_trained)
    return wire


def _wire(service, panel, canvas, preview, train, message, seed, reply, outputs, on_trained) -> None:
    @guarded(lambda msg: msg)
    def on_draw(value):
        return preview_html(value)

    @guarded(lambda msg: {message: msg})
    def on_train(value, seed_v, request: gr.Request):
        sid = session_id(request)
        seed = whole_number(seed_v or 0, 0, 2**31 - 1)
        if seed is None:
            return {message: "⚠ the seed must be a whole number from 0 to 2147483647"}
        setup, answer = train_on_drawing(service, sid, value, seed)
        updates = {message: answer, reply: answer}
        return updates if setup is None else {**on_trained(setup, sid), **updates}

    panel.expand(None, None, None, js=SELECT_BRUSH_JS)
    canvas.change(on_draw, canvas, preview, trigger_mode="always_last", show_progress="hidden")
    train.click(on_train, [canvas, seed], list(dict.fromkeys([message, reply, *outputs])))
