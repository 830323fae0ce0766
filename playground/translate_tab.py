"""The Translate tab: draw a digit and watch the live translating G (pix2pix, CycleGAN, style transfer) answer as the
run trains; the direction or style to pick, a blend between two styles, the cycle back; random held-out examples
(input | output | target); an uploaded image; a checkpoint as the source.

Only wiring lives here: each handler maps components to a TranslateService call (playground/translate_service.py).
Gradio 6.31's Sketchpad, as measured in headless Chromium on this project's machine:
- its value arrives as {"background", "layers", "composite"} (numpy here); the canvas sends each as a PNG blob
  (one POST to /gradio_api/component_server each, so each is under the 1 MiB body cap) before the event;
- `.change` fires once per stroke, when the pointer is released, after those blobs arrived: it carries the new
  drawing. `.input` fires at the same moment but before the upload, so it may carry the previous drawing. Clearing
  fires `.clear`, then `.change` with composite None;
- no tool is selected when the canvas appears ("select the draw tool to start"): the tab clicks the brush for the
  visitor when it opens.
"""
from __future__ import annotations

import random

import gradio as gr

from playground import texts
from playground.editor_blobs import bound_blob_storage
from playground.sketch_input import BRUSH_RADIUS, CANVAS, ERASER_RADIUS
from playground.translate_service import Refusal, TranslateService
from playground.ui_common import guarded, session_id, skips

FOLLOW_SECONDS = 2.0      # while the live run trains, the last input is translated again this often
N_EXAMPLES = 500          # held-out pairs (ganengine/data/paired.py); the service wraps larger indices

# Pick the brush once the canvas is on screen, unless a tool is already active (a click would toggle its menu).
SELECT_BRUSH_JS = """
() => {
  let tries = 0;
  const pick = () => {
    const root = document.querySelector('#gp-sketch');
    const brush = root && root.querySelector('button[aria-label="Brush"]');
    const waiting = root && root.innerText.includes('select the draw tool');
    if (brush && waiting) { brush.click(); return; }
    if (++tries < 80) setTimeout(pick, 250);   // the brush can show before the prompt: wait for both (20 s)
  };
  setTimeout(pick, 100);
}
"""


def build_translate_tab(service: TranslateService) -> dict:
    with gr.Tab("Translate", id="translate") as tab:
        gr.Markdown(texts.TRANSLATE_HELP)
        with gr.Row(equal_height=False):
            source = gr.Radio(service.source_choices(), value="live", label="Translator G", elem_id="gp-tx-source")
            checkpoint = gr.File(label="A translating run's checkpoint (.pt; loaded safely, never unpickled)", file_types=[".pt"],
                                 elem_id="gp-tx-checkpoint",
                                 visible=False)
        source_msg = gr.Markdown("", elem_id="gp-tx-source-msg")
        with gr.Row(equal_height=False):
            choice = gr.Dropdown([], value=None, label="Direction / style", visible=False, elem_id="gp-tx-choice")
            blend_to = gr.Dropdown([], value=None, label="Blend toward (a second style)", visible=False,
                                   elem_id="gp-tx-blend-to")
            blend = gr.Slider(0, 1, value=0, step=0.05, label="Blend (0 = the style, 1 = the second)", visible=False,
                              elem_id="gp-tx-blend")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                sketch = gr.Sketchpad(canvas_size=(CANVAS, CANVAS), fixed_canvas=True, type="numpy",
                                      image_mode="RGBA", format="png", layers=False, transforms=(), buttons=[],
                                      brush=gr.Brush(colors=["#000000"], color_mode="fixed",
                                                     default_size=BRUSH_RADIUS),
                                      eraser=gr.Eraser(default_size=ERASER_RADIUS),
                                      label="Draw a digit", elem_id="gp-sketch")
                bound_blob_storage(sketch)    # strokes whose event never runs would stay in memory for good
                fit = gr.Checkbox(value=True, label="Centre and size my drawing like MNIST (a 20 px box)",
                                  info="The output follows each stroke when you release the mouse.")
                with gr.Row():
                    example = gr.Button("Random held-out example", size="sm", elem_id="gp-tx-example")
                    upload = gr.UploadButton("Upload an image", file_types=["image"], size="sm")
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    seen = gr.Image(label="G's input", format="png", type="numpy", interactive=False,
                                    height=200, buttons=["download"], elem_id="gp-tx-seen")
                    output = gr.Image(label="G's output", format="png", type="numpy", interactive=False, height=200,
                                      buttons=["download"], elem_id="gp-tx-output")
                    back = gr.Image(label="Back (the cycle)", format="png", type="numpy", interactive=False,
                                    height=200, visible=False, buttons=["download"], elem_id="gp-tx-back")
                    target = gr.Image(label="The real answer", format="png", type="numpy", interactive=False,
                                      height=200, visible=False, buttons=["download"], elem_id="gp-tx-target")
                every = gr.Image(label="In every style", format="png", type="numpy", interactive=False, height=150,
                                 visible=False, buttons=["download"], elem_id="gp-tx-every")
                caption = gr.Markdown("", elem_id="gp-tx-caption")
        timer = gr.Timer(FOLLOW_SECONDS, active=False)
        # API-only: `translate` (see README) runs on these hidden components.
        with gr.Row(visible=False):
            api_file = gr.File(type="filepath")       # a file, not gr.Image: a non-image gets our sentence
            api_source = gr.Textbox(value="live")
            api_choice = gr.Textbox(value="")
            api_output = gr.Image(type="numpy", format="png")
            api_button = gr.Button("translate")

    shown = [seen, output, back, target, every, caption, timer]
    asked = [choice, blend_to, blend]

    def optional(image, label=None):
        if image is None:
            return gr.update(visible=False)
        return gr.update(value=image, visible=True, **({"label": label} if label else {}))

    def show(t):
        return (t.seen, t.output, optional(t.back, t.back_label), optional(t.target), optional(t.every, t.every_label),
                t.text, gr.Timer(active=t.live))

    def refuse(message: str):
        return skips(5) + (message, gr.skip())

    def controls_update(sid, key):
        c = service.controls(sid, key)
        values = [v for _, v in c.choices]
        return (gr.update(choices=c.choices, value=values[0] if values else None, visible=bool(c.choices),
                          label=c.label or "Direction / style"),
                gr.update(choices=c.choices, value=values[1] if len(values) > 1 else None, visible=c.blend),
                gr.update(value=0, visible=c.blend))

    @guarded(lambda msg: (msg,) + skips(5))
    def on_source(key, request: gr.Request):
        sid = session_id(request)
        message = service.describe(sid, key)
        return (message, gr.update(visible=key == "upload"), gr.Timer(active=False)) + controls_update(sid, key)

    @guarded(lambda msg: (msg,) + skips(3))
    def on_checkpoint(key, path, request: gr.Request):
        sid = session_id(request)
        return (service.load_checkpoint(sid, path),) + controls_update(sid, key)

    @guarded(refuse)
    def on_draw(key, value, fit_v, choice_v, blend_to_v, blend_v, request: gr.Request):
        try:
            return show(service.drawing(session_id(request), key, value, fit_v, choice_v, blend_to_v, blend_v))
        except Refusal as why:
            return refuse(f"⚠ {why}")

    @guarded(refuse)
    def on_example(key, choice_v, blend_to_v, blend_v, request: gr.Request):
        try:
            return show(service.example(session_id(request), key, random.randrange(N_EXAMPLES), choice_v,
                                        blend_to_v, blend_v))
        except Refusal as why:
            return refuse(f"⚠ {why}")

    @guarded(refuse)
    def on_image(key, path, fit_v, choice_v, blend_to_v, blend_v, request: gr.Request):
        try:
            return show(service.image_file(session_id(request), key, path, fit_v, choice_v, blend_to_v, blend_v))
        except Refusal as why:
            return refuse(f"⚠ {why}")

    @guarded(refuse)
    def on_ask(key, choice_v, blend_to_v, blend_v, request: gr.Request):
        """A new direction, style or blend: the last input again (nothing to do before the first one)."""
        try:
            t = service.again(session_id(request), key, choice_v, blend_to_v, blend_v)
        except Refusal as why:
            return refuse(f"⚠ {why}")
        return show(t) if t is not None else skips(7)

    @guarded(lambda msg: skips(4))
    def on_follow(key, request: gr.Request):
        t = service.follow(session_id(request), key)
        if t is None:
            return skips(4)
        return t.output, optional(t.back, t.back_label), optional(t.every, t.every_label), t.text

    @guarded(refuse)
    def on_clear(request: gr.Request):
        service.forget(session_id(request))
        hidden = gr.update(visible=False)
        return None, None, hidden, hidden, hidden, "Draw a digit on the canvas.", gr.Timer(active=False)

    render = dict(show_progress="hidden", concurrency_limit=4, concurrency_id="translate")
    source_outputs = [source_msg, checkpoint, timer, choice, blend_to, blend]
    source.input(on_source, source, source_outputs, **render)
    tab.select(on_source, source, source_outputs, **render)
    tab.select(None, None, None, js=SELECT_BRUSH_JS)
    checkpoint.upload(on_checkpoint, [source, checkpoint], [source_msg, choice, blend_to, blend],
                      show_progress="minimal")
    sketch.change(on_draw, [source, sketch, fit] + asked, shown, trigger_mode="always_last", **render)
    sketch.clear(on_clear, None, shown, queue=False, show_progress="hidden")
    fit.change(on_draw, [source, sketch, fit] + asked, shown, trigger_mode="always_last", **render)
    example.click(on_example, [source] + asked, shown, **render)
    upload.upload(on_image, [source, upload, fit] + asked, shown, **render)
    for control in (choice, blend_to):
        control.input(on_ask, [source] + asked, shown, trigger_mode="always_last", **render)
    blend.input(on_ask, [source] + asked, shown, trigger_mode="always_last", **render)   # drag or typed number
    timer.tick(on_follow, source, [output, back, every, caption], trigger_mode="always_last", **render)

    def api_translate(image, source, choice, request: gr.Request):
        """A translating generator's output for an image file, 8x nearest-neighbour: pix2pix, CycleGAN, style
        transfer or SRGAN, from this client's own run or an uploaded checkpoint.

        Args:
            image: the input image file: a sketch with white strokes on black, or dark strokes on light paper
                (PNG, JPEG); it is fitted to the generator's input size.
            source: whose generator: "live" (this client's run, trained with /start; the default) or "upload"
                (a checkpoint this client uploaded in the Translate tab).
            choice: for CycleGAN the direction, "ab" or "ba"; for style transfer a style's name; "" for the first.

        Returns:
            the output image file (PNG).
        """
        key = source or "live"
        try:
            return service.image_file(session_id(request), key, image, True, choice or None).output
        except Refusal as why:
            raise gr.Error(str(why).replace("**", "")[:300]) from None

    api_button.click(api_translate, [api_file, api_source, api_choice], api_output, api_name="translate", **render)
    return {"sketch": sketch, "timer": timer}
