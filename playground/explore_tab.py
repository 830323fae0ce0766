"""The Explore tab: seeds, latent sliders, digit choice and A-to-B interpolation on a live, pretrained or uploaded G.

Only wiring lives here: each handler maps components to an ExploreService call (playground/explore_service.py).
"""
from __future__ import annotations

import json
import random

import gradio as gr

from playground import texts
from playground.explore_service import MAX_SEED, N_DIMS, N_SEFA, ExploreService
from playground.path_explore_tab import build_path_panel
from playground.ui_common import guarded, session_id, skips


def build_explore_tab(service: ExploreService) -> dict:
    choices = service.source_choices()
    with gr.Tab("Explore", id="explore") as tab:
        gr.Markdown(texts.EXPLORE_HELP)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                source = gr.Dropdown(choices, value=choices[0][1], label="Generator", elem_id="gp-source")
                upload = gr.File(label="Checkpoint (.pt from this app or the CLI; loaded safely, never unpickled)",
                                 file_types=[".pt"], visible=False)
                refresh = gr.Button("Refresh the copy of my live run", size="sm", visible=False)
                source_msg = gr.Markdown("")
                with gr.Row():
                    seed = gr.Number(value=7, precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="gp-seed")
                    randomize = gr.Button("Random seed", size="sm")
                digit = gr.Dropdown([str(i) for i in range(10)], value="3", label="Digit to draw", visible=False)
                sliders = []
                with gr.Accordion("Latent sliders (in units of σ)", open=True):
                    for i in range(N_DIMS):
                        sliders.append(gr.Slider(-3, 3, value=0, step=0.1, label=f"z[{i}]",
                                                 elem_id=f"gp-dim-{i}"))
                    for i in range(N_SEFA):
                        sliders.append(gr.Slider(-3, 3, value=0, step=0.1, label=f"principal direction {i + 1}",
                                                 elem_id=f"gp-dir-{i}"))
                    zero = gr.Button("Reset sliders", size="sm")
            with gr.Column(scale=2, min_width=320, elem_id="gp-explore-view"):   # phones: on top, kept on screen
                image = gr.Image(label="G(z)", format="png", type="numpy", interactive=False, height=300,
                                 elem_id="gp-explore-image", buttons=["download"])
                caption = gr.Markdown("", elem_id="gp-explore-caption")
                strip = gr.Image(label="The same z as every digit", format="png", type="numpy", interactive=False,
                                 visible=False, elem_id="gp-class-strip", buttons=["download"])
        with gr.Accordion("Interpolate from seed A to seed B", open=True):
            with gr.Row():
                seed_a = gr.Number(value=1, precision=0, minimum=0, maximum=MAX_SEED, label="Seed A")
                seed_b = gr.Number(value=2, precision=0, minimum=0, maximum=MAX_SEED, label="Seed B")
                method = gr.Radio(["slerp", "lerp"], value="slerp", label="Path")
                frames = gr.Slider(3, 24, value=10, step=1, label="Frames in the strip")
            t = gr.Slider(0, 1, value=0.5, step=0.01, label="t: 0 = A, 1 = B", elem_id="gp-interp-t")
            with gr.Row(equal_height=False):
                at_t = gr.Image(label="G(z(t))", format="png", type="numpy", interactive=False, height=220,
                                buttons=["download"])
                path_strip = gr.Image(label="A → B", format="png", type="numpy", interactive=False,
                                      buttons=["download"], elem_id="gp-path-strip")
            interp_caption = gr.Markdown("")
            with gr.Row():
                gif = gr.Button("Make a GIF of the walk", size="sm")
                gif_file = gr.File(label="GIF", visible=False, interactive=False)
        follow_path_panel = build_path_panel(service)   # vid2vid: a digit along a path (path_explore_tab.py)
        # API-only: `generate` (see README) runs on these hidden components.
        with gr.Row(visible=False):
            api_seed = gr.Number(value=0)        # no rounding here: NaN or text reaches the handler, which explains

            api_source = gr.Textbox(value="pretrained")
            api_offsets = gr.Textbox(value="[]")
            api_label = gr.Number(value=0)
            api_image = gr.Image(type="numpy", format="png")
            api_button = gr.Button("generate")

    # ---- handlers ----------------------------------------------------------------------------------------------
    render_inputs = [seed, digit] + sliders
    render_outputs = [image, caption, strip]

    @guarded(lambda msg: (gr.skip(), msg, gr.skip()))
    def on_render(seed_v, digit_v, o0, o1, o2, o3, o4, o5, o6, o7, request: gr.Request):
        """Gradio injects gr.Request by annotation, which needs named parameters (not *args)."""
        sid = session_id(request)
        offsets = [o0, o1, o2, o3, o4, o5, o6, o7]
        try:
            img, text = service.render(sid, seed_v, offsets, digit_v)
            row = service.class_strip(sid, seed_v, offsets)
        except ValueError as err:      # no generator (yet): no picture of the last one either
            return None, f"⚠ {err}", gr.update(visible=False)
        return img, text, (gr.update(value=row, visible=True) if row is not None else gr.update(visible=False))

    def source_outputs(src, msg):
        if src is None:
            return (msg, gr.skip(), gr.skip())
        conditional = src.conditional
        return (msg, gr.update(visible=conditional, choices=[str(i) for i in range(src.spec.num_classes)] if conditional else None),
                gr.update(visible=conditional))

    @guarded(lambda msg: (msg,) + skips(4))
    def on_source(key, request: gr.Request):
        sid = session_id(request)
        visible_upload = gr.update(visible=key == "upload")
        visible_refresh = gr.update(visible=key == "live")
        if key == "upload" and "upload" not in service.registry.session(sid).explore:
            return "Choose a checkpoint file to upload.", gr.skip(), gr.skip(), visible_upload, visible_refresh
        src, msg = service.select(sid, key)
        return (*source_outputs(src, msg), visible_upload, visible_refresh)

    @guarded(lambda msg: (msg,) + skips(2))
    def on_upload(path, request: gr.Request):
        src, msg = service.upload(session_id(request), path)
        return source_outputs(src, msg)

    @guarded(lambda msg: (msg,) + skips(2))
    def on_refresh(request: gr.Request):
        src, msg = service.select(session_id(request), "live")
        return source_outputs(src, msg)

    source_changed = source.input(on_source, source, [source_msg, digit, strip, upload, refresh])
    new_generator = [source_changed.then(on_render, render_inputs, render_outputs),
                     upload.upload(on_upload, upload, [source_msg, digit, strip]).then(on_render, render_inputs,
                                                                                      render_outputs)]

    @guarded(lambda msg: (msg,) + skips(4))
    def on_tab(key, request: gr.Request):
        """Opening the tab takes a fresh copy of the live run, so what you explore is what you just trained."""
        if key != "live":
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return on_source(key, request)

    new_generator.append(tab.select(on_tab, source, [source_msg, digit, strip, upload, refresh]).then(
        on_render, render_inputs, render_outputs))
    new_generator.append(refresh.click(on_refresh, None, [source_msg, digit, strip]).then(on_render, render_inputs,
                                                                                          render_outputs))

    for comp in sliders:
        comp.change(on_render, render_inputs, render_outputs, show_progress="hidden", trigger_mode="always_last",
                    concurrency_limit=4, concurrency_id="explore-render")
    seed.change(on_render, render_inputs, render_outputs, show_progress="hidden", trigger_mode="always_last",
                concurrency_limit=4, concurrency_id="explore-render")
    digit.change(on_render, render_inputs, render_outputs, show_progress="hidden")
    randomize.click(lambda: random.randint(0, 99_999), None, seed, queue=False)
    zero.click(lambda: [0.0] * len(sliders), None, sliders, queue=False)

    interp_inputs = [seed_a, seed_b, method, t, frames, digit]
    interp_outputs = [at_t, path_strip, interp_caption]

    @guarded(lambda msg: (gr.skip(), gr.skip(), msg))
    def on_interp(a, b, how, t_v, n, digit_v, request: gr.Request):
        try:
            img, row, text = service.interpolate(session_id(request), a, b, how, t_v, n, digit_v)
        except ValueError as err:      # no generator (yet): the last one's path is not this one's
            return None, None, f"⚠ {err}"
        return img, row, text

    for comp in (seed_a, seed_b, method, frames, digit):      # a new digit: a new path too
        comp.change(on_interp, interp_inputs, interp_outputs, show_progress="hidden")
    for event in new_generator:                               # a new G: its own path, not the last G's
        event.then(on_interp, interp_inputs, interp_outputs, show_progress="hidden")
        follow_path_panel(event)                              # shown (and rendered) for a G that renders paths
    t.change(on_interp, interp_inputs, [at_t, path_strip, interp_caption], show_progress="hidden",
             trigger_mode="always_last", concurrency_limit=4, concurrency_id="explore-render")

    @guarded(lambda msg: (gr.update(visible=False), msg))
    def on_gif(a, b, how, n, digit_v, request: gr.Request):
        try:
            path = service.interpolation_gif(session_id(request), a, b, how, n, digit_v)
        except ValueError as err:
            return gr.update(visible=False), f"⚠ {err}"
        return gr.update(value=path, visible=True), "GIF ready: A → B and back."

    gif.click(on_gif, [seed_a, seed_b, method, frames, digit], [gif_file, interp_caption])

    def api_generate(seed: float, source: str, offsets: str, label: float, request: gr.Request):
        """One generated image, 8x nearest-neighbour, from a generator this client picks: the same latent walk as the
        Explore tab's sliders, by code.

        Args:
            seed: which latent vector z, a whole number from 0 (the same seed gives the same z every time).
            source: the generator: "pretrained" (the bundled DCGAN; the default), "pretrained-cgan" (the bundled
                conditional GAN), "live" (this client's own run, trained with /start) or "upload" (a checkpoint
                this client uploaded in the Explore tab).
            offsets: a JSON list of up to 8 numbers, as text: moves along z's first four coordinates, then along
                G's four principal directions (SeFa), in units of sigma; "[]" for none.
            label: the digit 0-9 to draw (conditional generators only; ignored by the others).

        Returns:
            the image file (PNG).
        """
        seed_v, source_v, offsets_json, label_v = seed, source, offsets, label
        sid = session_id(request)
        key = {"pretrained": "pretrained:dcgan-digits", "pretrained-cgan": "pretrained:cgan-digits"}.get(
            source_v or "pretrained", source_v)
        src, msg = service.select(sid, key)
        if src is None:
            raise gr.Error(msg.lstrip("⚠ "))
        try:
            if not isinstance(offsets_json, (str, type(None))) or len(offsets_json or "") > 2000:
                raise ValueError("offsets must be a JSON list of at most 8 numbers, as text")
            moves = json.loads(offsets_json or "[]")
            if not isinstance(moves, list):
                raise ValueError("offsets must be a JSON list of numbers")
            img, _ = service.render(sid, seed_v, moves, label_v)
        except (ValueError, TypeError, RecursionError) as err:
            raise gr.Error(str(err)[:200]) from None
        return img

    api_button.click(api_generate, [api_seed, api_source, api_offsets, api_label], api_image, api_name="generate",
                     concurrency_limit=4, concurrency_id="explore-render")
    return {"render": (on_render, render_inputs, render_outputs), "interp": (on_interp, interp_inputs,
                                                                           [at_t, path_strip, interp_caption])}
