"""The Train tab: setup, controls, live knobs, live plots, samples and their timeline, quality and diagnostics.

Only wiring lives here: each handler maps components to a TrainService call (playground/train_service.py).
"""
from __future__ import annotations

import math

import gradio as gr

from playground import texts
from playground.live_plot import live_plot
from ganengine.config import MAX_SEED, ConfigError
from playground.train_service import DEFAULT_PRESET, LOSS_CHOICES, TrainService, whole_number
from playground.ui_common import guarded, session_id, skips

SETUP_FIELDS = ("data", "model", "latent_dim", "width", "seed")
BATCH_CHOICES = [16, 32, 64, 128, 256, 512]
EMA_CHOICES = [("off", 0.0), ("0.99", 0.99), ("0.999", 0.999), ("0.9995", 0.9995), ("0.9999", 0.9999)]


def _log10(v: float) -> float:
    return round(math.log10(v), 2)


def build_train_tab(service: TrainService) -> dict:
    defaults = service.preset_setup(DEFAULT_PRESET)
    with gr.Tab("Train", id="train"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320, elem_id="gp-controls"):
                preset = gr.Dropdown(service.preset_choices(), value=DEFAULT_PRESET, label="Preset",
                                     info="Experiments that converge, and two (⚠) that fail on purpose")
                watch = gr.Markdown(service.preset_watch(DEFAULT_PRESET), elem_id="gp-watch")
                with gr.Row():
                    start = gr.Button("▶ Start", variant="primary", elem_id="gp-start")
                    pause = gr.Button("❚❚ Pause", elem_id="gp-pause")
                with gr.Row():
                    step = gr.Button("Step", size="sm", min_width=50, elem_id="gp-step")
                    step_d = gr.Button("Step D", size="sm", min_width=50, elem_id="gp-step-d")
                    step_g = gr.Button("Step G", size="sm", min_width=50, elem_id="gp-step-g")
                    reset = gr.Button("↺ Reset", size="sm", min_width=50, elem_id="gp-reset")
                counter = gr.Markdown("Step **0**", elem_id="gp-counter")
                status = gr.Markdown("Ready: press **Start**.", elem_id="gp-status")
                with gr.Accordion("Live knobs: change them while it trains", open=True):
                    lr_g = gr.Slider(-5, -2, value=_log10(defaults["lr_g"]), step=0.05, elem_id="gp-lr-g",
                                     label=f"G learning rate: {defaults['lr_g']:.1e}", info="log10 scale")
                    lr_d = gr.Slider(-5, -2, value=_log10(defaults["lr_d"]), step=0.05, elem_id="gp-lr-d",
                                     label=f"D learning rate: {defaults['lr_d']:.1e}", info="log10 scale")
                    d_steps = gr.Slider(1, 10, value=defaults["d_steps"], step=1, label="D steps per G step")
                    loss = gr.Dropdown(LOSS_CHOICES, value=defaults["loss"], label="Loss")
                    batch = gr.Dropdown(BATCH_CHOICES, value=defaults["batch_size"], label="Batch size")
                    smoothing = gr.Slider(0, 0.3, value=defaults["label_smoothing"], step=0.05,
                                          label="One-sided label smoothing (real target 1 - s)")
                    r1 = gr.Slider(0, 10, value=defaults["r1_weight"], step=0.05, label="R1 penalty weight γ")
                    ema = gr.Dropdown(EMA_CHOICES, value=defaults["ema_decay"], label="EMA of G's weights (samples)")
                    decay = gr.Number(value=defaults["lr_decay_steps"], precision=0, minimum=0,
                                      label="LR decay: steps until both lrs reach the preset's floor (0 = constant)")
                    knob_msg = gr.Markdown("", elem_id="gp-knob-msg")
                with gr.Accordion("Setup: changing these rebuilds the run", open=False):
                    data = gr.Dropdown(service.dataset_choices(), value=defaults["data"], label="Dataset")
                    points = gr.File(label="Your data: a CSV of x,y rows (or .npy), or a .zip of images",
                                     file_types=[".csv", ".npy", ".txt", ".zip"], visible=False, file_count="single")
                    model = gr.Dropdown(service.model_choices(defaults["data"]), value=defaults["model"], label="Model")
                    latent = gr.Slider(1, 128, value=defaults["latent_dim"], step=1, label="Latent size (z dimensions)")
                    width = gr.Slider(8, 256, value=defaults["width"], step=8, label="Width (units or base channels)")
                    seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED,
                                     label="Seed (init, data order, noise)")
                    setup_msg = gr.Markdown("")
            with gr.Column(scale=3):
                with gr.Row():
                    losses = live_plot(elem_id="gp-plot-losses")
                    dprob = live_plot(elem_id="gp-plot-dprob")
                with gr.Row():
                    gradnorm = live_plot(elem_id="gp-plot-grad")
                    panel = live_plot(height=320, elem_id="gp-plot-panel")
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=280):
                        gr.Markdown("**Now: G's samples from one fixed noise batch**")
                        grid = gr.HTML("", elem_id="gp-grid")
                        gr.Markdown("**Timeline: scrub back through earlier samples**")
                        timeline = gr.Slider(0, 1, value=0, step=1, label="frame", elem_id="gp-timeline")
                        frame = gr.HTML("", elem_id="gp-frame")
                        with gr.Row():
                            rewind_btn = gr.Button("↶ Rewind the run to this frame", size="sm", elem_id="gp-rewind")
                            gif_btn = gr.Button("Export the evolution as a GIF", size="sm")
                            ckpt_btn = gr.Button("Save a checkpoint", size="sm")
                        download = gr.File(label="Download", visible=False, interactive=False)
                        file_msg = gr.Markdown("")
                    with gr.Column(min_width=280):
                        gr.Markdown(texts.HOW_TO_READ, elem_id="gp-how-to-read")
                with gr.Accordion("Quality and diagnostics", open=True):
                    diagnosis = gr.Markdown("Diagnostics appear once training runs.", elem_id="gp-diagnosis")
                    with gr.Row():
                        quality = live_plot(elem_id="gp-plot-quality")
                        classes = live_plot(height=220, elem_id="gp-plot-classes")
                    gr.Markdown(texts.QUALITY_HELP)
        timer = gr.Timer(1.0)

    # ---- handlers: thin, each one service call -----------------------------------------------------------------
    setup_inputs = [data, model, latent, width, seed, lr_g, lr_d, d_steps, loss, batch, smoothing, r1, ema, decay]

    def setup_dict(data_v, model_v, latent_v, width_v, seed_v, lr_g_v, lr_d_v, d_steps_v, loss_v, batch_v, sm_v,
                   r1_v, ema_v, decay_v) -> dict:
        from playground.train_service import lr_from_log
        return {"data": data_v, "model": model_v, "latent_dim": latent_v, "width": width_v, "seed": seed_v,
                "lr_g": lr_from_log(lr_g_v), "lr_d": lr_from_log(lr_d_v), "d_steps": d_steps_v, "loss": loss_v,
                "batch_size": batch_v, "label_smoothing": sm_v, "r1_weight": r1_v, "ema_decay": ema_v,
                "lr_decay_steps": decay_v}

    # Gradio injects gr.Request by annotation, which needs named parameters (not *args).
    @guarded(lambda msg: msg)
    def on_setup(data_v, model_v, latent_v, width_v, seed_v, lr_g_v, lr_d_v, d_steps_v, loss_v, batch_v, sm_v, r1_v,
                 ema_v, decay_v, points_file, request: gr.Request):
        form = (data_v, model_v, latent_v, width_v, seed_v, lr_g_v, lr_d_v, d_steps_v, loss_v, batch_v, sm_v, r1_v,
                ema_v, decay_v)
        return service.apply_setup(session_id(request), setup_dict(*form), points_path=points_file or "")

    @guarded(lambda msg: (gr.skip(), gr.skip(), msg))
    def on_data(data_v, model_v, latent_v, width_v, seed_v, lr_g_v, lr_d_v, d_steps_v, loss_v, batch_v, sm_v, r1_v,
                ema_v, decay_v, points_file, request: gr.Request):
        choices = service.model_choices(data_v)
        model_v = model_v if model_v in [v for _, v in choices] else choices[0][1]
        form = (data_v, model_v, latent_v, width_v, seed_v, lr_g_v, lr_d_v, d_steps_v, loss_v, batch_v, sm_v, r1_v,
                ema_v, decay_v)
        needs_points = data_v in ("points", "folder")
        if needs_points and not points_file:
            msg = ("Upload a CSV of x,y points (one point per line), then it rebuilds." if data_v == "points" else
                   "Upload a .zip of images (subfolders become classes); they are cropped to 32x32.")
        else:
            msg = service.apply_setup(session_id(request), setup_dict(*form), points_path=points_file or "")
        return gr.update(choices=choices, value=model_v), gr.update(visible=needs_points), msg

    @guarded(lambda msg: skips(15) + (msg,))
    def on_preset(name, seed_v, request: gr.Request):
        try:
            s = service.preset_setup(name)
        except ConfigError as err:
            return skips(15) + (f"⚠ {err}",)
        if whole_number(seed_v, 0, MAX_SEED) is None:
            return skips(15) + (f"⚠ the seed must be a whole number from 0 to {MAX_SEED}",)
        form = [s["data"], s["model"], s["latent_dim"], s["width"], seed_v, _log10(s["lr_g"]), _log10(s["lr_d"]),
                s["d_steps"], s["loss"], s["batch_size"], s["label_smoothing"], s["r1_weight"], s["ema_decay"],
                s["lr_decay_steps"]]
        msg = service.apply_setup(session_id(request), setup_dict(*form), base=s)
        return (service.preset_watch(name), gr.update(value=s["data"]),
                gr.update(choices=service.model_choices(s["data"]), value=s["model"]), *form[2:5],
                gr.update(value=form[5], label=f"G learning rate: {s['lr_g']:.1e}"),
                gr.update(value=form[6], label=f"D learning rate: {s['lr_d']:.1e}"), *form[7:], msg)

    preset.input(on_preset, [preset, seed], [watch, data, model, latent, width, seed, lr_g, lr_d, d_steps, loss, batch,
                                            smoothing, r1, ema, decay, setup_msg])
    data.input(on_data, [data] + setup_inputs[1:] + [points], [model, points, setup_msg])
    points.upload(on_setup, setup_inputs + [points], setup_msg)
    for comp in (model, seed):
        comp.input(on_setup, setup_inputs + [points], setup_msg)
    for comp in (latent, width):
        comp.release(on_setup, setup_inputs + [points], setup_msg)

    def knob_handler(name):
        @guarded(lambda msg: msg)
        def handler(value, request: gr.Request):
            return service.set_knob(session_id(request), name, value)
        return handler

    def lr_label(who):
        def label(value):
            try:
                lr = 10 ** float(value)
            except (TypeError, ValueError, OverflowError):
                return gr.skip()
            return gr.update(label=f"{who} learning rate: {lr:.1e}") if math.isfinite(lr) else gr.skip()
        return label

    lr_g.release(knob_handler("lr_g"), lr_g, knob_msg)
    lr_d.release(knob_handler("lr_d"), lr_d, knob_msg)
    lr_g.change(lr_label("G"), lr_g, lr_g, queue=False, show_progress="hidden")
    lr_d.change(lr_label("D"), lr_d, lr_d, queue=False, show_progress="hidden")
    for comp, name in ((d_steps, "d_steps"), (smoothing, "label_smoothing"), (r1, "r1_weight")):
        comp.release(knob_handler(name), comp, knob_msg)
    for comp, name in ((loss, "loss"), (batch, "batch_size"), (ema, "ema_decay")):
        comp.input(knob_handler(name), comp, knob_msg)
    decay.blur(knob_handler("lr_decay_steps"), decay, knob_msg)
    decay.submit(knob_handler("lr_decay_steps"), decay, knob_msg)

    def command(fn):
        @guarded(lambda msg: msg)
        def handler(request: gr.Request):
            return fn(session_id(request))
        return handler

    start.click(command(service.start), None, status)
    pause.click(command(service.pause), None, status)
    step.click(command(lambda sid: service.step(sid, "both")), None, status)
    step_d.click(command(lambda sid: service.step(sid, "d")), None, status)
    step_g.click(command(lambda sid: service.step(sid, "g")), None, status)
    reset.click(command(service.reset), None, status)

    tick_outputs = [counter, status, losses, dprob, gradnorm, panel, grid, timeline, quality, classes, diagnosis]

    @guarded(lambda msg: skips(len(tick_outputs)))
    def on_tick(request: gr.Request):
        t = service.tick(session_id(request))

        def opt(v):
            return gr.skip() if v is None else v
        timeline_update = gr.skip() if t.timeline_max is None else gr.update(maximum=max(t.timeline_max, 1))
        return (t.counter, t.status, opt(t.losses), opt(t.dprob), opt(t.gradnorm), opt(t.panel), opt(t.grid_html),
                timeline_update, opt(t.quality), opt(t.classes), opt(t.diagnosis))

    timer.tick(on_tick, None, tick_outputs, concurrency_limit=None, show_progress="hidden", queue=False)

    @guarded(lambda msg: msg)
    def on_timeline(index, request: gr.Request):
        return service.timeline_frame(session_id(request), index)

    timeline.change(on_timeline, timeline, frame, show_progress="hidden")

    @guarded(lambda msg: msg)
    def on_rewind(index, request: gr.Request):
        return service.rewind(session_id(request), index)

    rewind_btn.click(on_rewind, timeline, status)

    def file_handler(fn):
        @guarded(lambda msg: (gr.update(visible=False), msg))
        def handler(request: gr.Request):
            path, msg = fn(session_id(request))
            return gr.update(value=path, visible=path is not None), msg
        return handler

    gif_btn.click(file_handler(service.export_gif), None, [download, file_msg])
    ckpt_btn.click(file_handler(service.checkpoint_file), None, [download, file_msg])
    return {"timer": timer, "status": status}

