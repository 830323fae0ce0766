"""The Train tab: setup, controls, live knobs, live plots, samples and their timeline, quality and diagnostics.

Only wiring lives here: each handler maps components to a TrainService call (playground/train_service.py).
"""
from __future__ import annotations

import math

import gradio as gr

from playground import texts
from playground.experiment_url import COPY_LINK_JS, REPLACE_URL_JS, link_query, open_link
from playground.pretrained_start import trained_run_path
from playground.branch_compare import build_branch_panel, wire_branch_panel
from playground.draw_points import build_draw_points
from playground.view_toggles import build_view_toggles
from playground.live_plot import live_plot
from playground.slow_motion_panel import build_slow_motion_panel
from ganengine.config import MAX_SEED, ConfigError
from playground.form_values import lr_from_log, whole_number
from playground.step_report import step_and_report
from playground.train_service import DEFAULT_PRESET, LOSS_CHOICES, TrainService
from playground.ui_common import guarded, session_id, skips

FAMILY_SLOTS = 3  # sliders for a family's own live knobs (pix2pix: lambda_L1); hidden when a family has fewer
BATCH_CHOICES = [16, 32, 64, 128, 256, 512]
PACE_CHOICES = [("full speed", 0.0), ("watchable: 20 steps/s", 20.0), ("slow: 5 steps/s", 5.0),
                ("step by step: 1 step/s", 1.0)]
EMA_CHOICES = [("off", 0.0), ("0.99", 0.99), ("0.999", 0.999), ("0.9995", 0.9995), ("0.9999", 0.9999)]


def lr_text(lr: float) -> str:
    """A learning rate as the box beside its slider shows it, short: 0.001, 0.0005, 3.2e-05."""
    return f"{lr:.2g}"


def _log10(v: float) -> float:
    return round(math.log10(v), 2)


def build_train_tab(service: TrainService) -> dict:
    defaults = service.preset_setup(DEFAULT_PRESET)
    with gr.Tab("Train", id="train"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320, elem_id="gp-controls"):
                preset = gr.Dropdown(service.preset_choices(), value=DEFAULT_PRESET, label="Preset",
                                     info="Experiments that converge, and two (⚠) that fail on purpose", elem_id="gp-preset")
                watch = gr.Markdown(service.preset_watch(DEFAULT_PRESET), elem_id="gp-watch")
                with gr.Row():
                    start = gr.Button("▶ Start", variant="primary", elem_id="gp-start")
                    pause = gr.Button("❚❚ Pause", elem_id="gp-pause")
                with gr.Row():
                    step = gr.Button("Step", size="sm", min_width=50, elem_id="gp-step")
                    step_d = gr.Button("Step D", size="sm", min_width=50, elem_id="gp-step-d")
                    step_g = gr.Button("Step G", size="sm", min_width=50, elem_id="gp-step-g")
                    reset = gr.Button("↺ Reset", size="sm", min_width=50, elem_id="gp-reset")
                trained = gr.Button("Open the trained GAN (bundled digits, ready now)", size="sm",
                                    elem_id="gp-open-trained")
                pace = gr.Dropdown(PACE_CHOICES, value=0.0, label="Speed", elem_id="gp-pace",
                                   info="slow a fast run down to watch it: each step is drawn as it happens")
                counter = gr.Markdown("Step **0**", elem_id="gp-counter")
                status = gr.Markdown("Ready: press **Start**.", elem_id="gp-status")
                reply = gr.Markdown("", elem_id="gp-reply")   # the answer to the visitor's last command: it stays
                with gr.Accordion("Live knobs: change them while it trains", open=True):
                    with gr.Row(equal_height=True):   # drag on a log scale, or type the number itself
                        lr_g = gr.Slider(-5, -2, value=_log10(defaults["lr_g"]), step=0.05, elem_id="gp-lr-g",
                                         label="G learning rate", info="drag: 1e-5 to 1e-2, log scale", buttons=[],
                                         scale=2)
                        lr_g_typed = gr.Textbox(value=lr_text(defaults["lr_g"]), label="G lr", elem_id="gp-lr-g-value",
                                                min_width=100, scale=1)
                    with gr.Row(equal_height=True):
                        lr_d = gr.Slider(-5, -2, value=_log10(defaults["lr_d"]), step=0.05, elem_id="gp-lr-d",
                                         label="D learning rate", info="drag: 1e-5 to 1e-2, log scale", buttons=[],
                                         scale=2)
                        lr_d_typed = gr.Textbox(value=lr_text(defaults["lr_d"]), label="D lr", elem_id="gp-lr-d-value",
                                                min_width=100, scale=1)
                    d_steps = gr.Slider(1, 10, value=defaults["d_steps"], step=1, label="D steps per G step",
                                        info="D updates before each G update (k in Goodfellow et al.'s Algorithm 1)")
                    loss = gr.Dropdown(LOSS_CHOICES, value=defaults["loss"], label="Loss",
                                       info="the pair of objectives D and G minimise: see How to read this")
                    batch = gr.Dropdown(BATCH_CHOICES, value=defaults["batch_size"], label="Batch size",
                                        info="real and fake samples per update: larger is smoother but slower")
                    smoothing = gr.Slider(0, 0.3, value=defaults["label_smoothing"], step=0.05,
                                          label="One-sided label smoothing (real target 1 - s)",
                                          info="D aims at 1 - s on reals so it cannot get over-confident "
                                               "(Salimans et al. 2016)")
                    r1 = gr.Slider(0, 10, value=defaults["r1_weight"], step=0.05, label="R1 penalty weight γ",
                                   info="penalises D's gradient on real images (Mescheder et al. 2018): calms D")
                    ema = gr.Dropdown(EMA_CHOICES, value=defaults["ema_decay"], label="EMA of G's weights (samples)",
                                      info="samples come from a running average of G's weights: less flicker "
                                           "(Yazıcı et al. 2019)")
                    decay = gr.Number(value=defaults["lr_decay_steps"], precision=0, minimum=0,
                                      label="LR decay: steps until both lrs reach the preset's floor (0 = constant)",
                                      info="learning rates fall linearly to the floor over these steps")
                    family_sliders = [gr.Slider(0, 1, value=0, step=1, visible=False, elem_id=f"gp-family-knob-{i}")
                                      for i in range(FAMILY_SLOTS)]
                    knob_msg = gr.Markdown("", elem_id="gp-knob-msg")
                with gr.Row(equal_height=True):
                    copy_link = gr.Button("Copy a link to this experiment", size="sm", elem_id="gp-copy-link",
                                          scale=1)
                    link_box = gr.Textbox(label="Link (opens these settings, paused)", elem_id="gp-link",
                                          visible=False, interactive=False, buttons=["copy"], scale=2)
                url_query = gr.Textbox(value="", elem_id="gp-url-query", elem_classes=["gp-hidden"], container=False,
                                       show_label=False, interactive=False)
                with gr.Accordion("Setup: changing these rebuilds the run", open=False) as setup_box:
                    data = gr.Dropdown(service.dataset_choices(), value=defaults["data"], label="Dataset")
                    points = gr.File(label="Your data: a CSV of x,y rows (or .npy), or a .zip of images",
                                     file_types=[".csv", ".npy", ".txt", ".zip"], visible=False, file_count="single")
                    model = gr.Dropdown(service.model_choices(defaults["data"]), value=defaults["model"], label="Model")
                    latent = gr.Slider(1, 128, value=defaults["latent_dim"], step=1, label="Latent size (z dimensions)")
                    width = gr.Slider(8, 256, value=defaults["width"], step=8, label="Width (units or base channels)")
                    seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED,
                                     label="Seed (init, data order, noise)")
                    setup_msg = gr.Markdown("", elem_id="gp-setup-msg")
                    resume = gr.File(label="Continue a saved checkpoint (.pt from this app or the CLI; loaded "
                                           "safely, never unpickled)", file_types=[".pt"], file_count="single",
                                     elem_id="gp-resume")
                wire_drawing = build_draw_points(service, seed=seed, reply=reply)   # draw your own 2-D data
            with gr.Column(scale=3):
                # Above the curves it judges (issue 15: it sat ~1,700 px down the page), naming the last change.
                diagnosis = gr.Markdown("**Diagnosis:** appears once training runs.", elem_id="gp-diagnosis")
                build_slow_motion_panel(service)   # issue 15: one iteration as narrated stages
                with gr.Row():
                    losses = live_plot(elem_id="gp-plot-losses")
                    dprob = live_plot(elem_id="gp-plot-dprob")
                with gr.Row():
                    gradnorm = live_plot(elem_id="gp-plot-grad")
                    panel = live_plot(height=320, elem_id="gp-plot-panel")
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=280):
                        gr.Markdown("**Now: what G makes at this step**")
                        toggles, toggle_updates = build_view_toggles(service, defaults["data"])  # where they apply
                        grid = gr.HTML("", elem_id="gp-grid")
                        gr.Markdown("**Timeline: scrub back through earlier frames**")
                        timeline = gr.Slider(0, 1, value=0, step=1, label="frame", elem_id="gp-timeline")
                        frame = gr.HTML("", elem_id="gp-frame")
                        with gr.Row():
                            rewind_btn = gr.Button("↶ Rewind the run to this frame", size="sm", elem_id="gp-rewind")
                            gif_btn = gr.Button("Export the evolution as a GIF", size="sm")
                            ckpt_btn = gr.Button("Save a checkpoint", size="sm")
                        download = gr.File(label="Download", visible=False, interactive=False)
                        file_msg = gr.Markdown("")
                    with gr.Column(min_width=280):
                        how = gr.Markdown(texts.how_to_read(), elem_id="gp-how-to-read")
                with gr.Accordion("Quality", open=True, elem_id="gp-quality"):
                    with gr.Row():
                        quality = live_plot(elem_id="gp-plot-quality")
                        classes = live_plot(height=220, elem_id="gp-plot-classes")
                    quality_help = gr.Markdown(texts.quality_help(), elem_id="gp-quality-help")
                branch_panel = build_branch_panel(service)   # issue 15: branch and compare (playground/branch_compare.py)
        timer = gr.Timer(1.0)
        link_timer = gr.Timer(2.0)

    # ---- handlers: thin, each one service call -----------------------------------------------------------------
    # The setup form by field name; handlers take it as a set of components, so Gradio passes {component: value}.
    form = {"data": data, "model": model, "latent_dim": latent, "width": width, "seed": seed, "lr_g": lr_g,
            "lr_d": lr_d, "d_steps": d_steps, "loss": loss, "batch_size": batch, "label_smoothing": smoothing,
            "r1_weight": r1, "ema_decay": ema, "lr_decay_steps": decay}
    form_inputs = set(form.values()) | {points, lr_g_typed, lr_d_typed}

    def read_form(values: dict) -> dict:
        """The setup the form shows; each lr as its box says (the slider's log10 has two decimals: 3e-4 would come
        back as 3.02e-4), the slider's where the box holds no number."""
        setup = {name: values[comp] for name, comp in form.items()}
        for name, box in (("lr_g", lr_g_typed), ("lr_d", lr_d_typed)):
            try:
                typed = float(str(values.get(box, "")).strip())
            except ValueError:
                typed = float("nan")
            setup[name] = typed if math.isfinite(typed) and typed > 0 else lr_from_log(setup[name])
        return setup

    def show_setup(setup: dict, sid: str) -> dict:
        """Updates that make the form show a setup (a preset's, a checkpoint's), family knobs included."""
        shown = {name: setup[name] for name in form}
        shown["lr_g"], shown["lr_d"] = _log10(setup["lr_g"]), _log10(setup["lr_d"])
        updates = {comp: gr.update(value=shown[name]) for name, comp in form.items()}
        updates[model] = gr.update(choices=service.model_choices(setup["data"]), value=setup["model"])
        updates[latent] = gr.update(value=setup["latent_dim"], visible=service.uses_latent(setup["data"]))
        updates[batch] = gr.update(choices=sorted({*BATCH_CHOICES, setup["batch_size"]}), value=setup["batch_size"])
        updates[lr_g_typed], updates[lr_d_typed] = lr_text(setup["lr_g"]), lr_text(setup["lr_d"])
        return {**updates, **family_slider_updates(sid), **toggle_updates(setup["data"])}

    def family_slider_updates(sid: str) -> dict:
        knobs = service.family_knobs(sid)
        updates = {}
        for i, slider in enumerate(family_sliders):
            k = knobs[i] if i < len(knobs) else None
            updates[slider] = gr.update(visible=False) if k is None else gr.update(
                visible=True, label=k["label"], minimum=k["low"], maximum=k["high"], step=k["step"], value=k["value"])
        return updates

    form_outputs = list(form.values()) + family_sliders + [lr_g_typed, lr_d_typed] + list(toggles)
    wire_drawing(form_outputs + [preset, watch, setup_msg, points], lambda setup, sid: {
        **show_setup(setup, sid), preset: gr.update(value=None), watch: texts.DRAWN, points: gr.update(visible=False)})

    # Gradio injects gr.Request by annotation.
    @guarded(lambda msg: msg)
    def on_setup(values: dict, request: gr.Request):
        return service.apply_setup(session_id(request), read_form(values), points_path=values[points] or "")

    @guarded(lambda msg: {setup_msg: msg})
    def on_data(values: dict, request: gr.Request):
        sid, data_v = session_id(request), values[data]
        choices = service.model_choices(data_v)
        setup = read_form(values)
        setup["model"] = setup["model"] if setup["model"] in [v for _, v in choices] else choices[0][1]
        needs_upload = data_v in ("points", "folder")
        if needs_upload and not values[points]:
            msg = ("Upload a CSV of x,y points (one point per line), then it rebuilds." if data_v == "points" else
                   "Upload a .zip of images (subfolders become classes); they are cropped to 32x32.")
        else:
            msg = service.apply_setup(sid, setup, points_path=values[points] or "")
        return {model: gr.update(choices=choices, value=setup["model"]), points: gr.update(visible=needs_upload),
                latent: gr.update(visible=service.uses_latent(data_v)), setup_msg: msg, reply: msg,
                **family_slider_updates(sid), **toggle_updates(data_v)}

    @guarded(lambda msg: {setup_msg: msg})
    def on_preset(name, seed_v, request: gr.Request):
        sid = session_id(request)
        try:
            s = service.preset_setup(name)
        except ConfigError as err:
            return {setup_msg: f"⚠ {err}"}
        if whole_number(seed_v, 0, MAX_SEED) is None:
            return {setup_msg: f"⚠ the seed must be a whole number from 0 to {MAX_SEED}"}
        s["seed"] = seed_v
        msg = service.apply_setup(sid, {field: s[field] for field in form}, base=s)
        if msg.ok:
            service.remember_preset(sid, name)
        return {**show_setup(s, sid), watch: service.preset_watch(name), setup_msg: msg, reply: msg,
                points: gr.update(visible=False)}

    @guarded(lambda msg: {setup_msg: msg})
    def on_resume(path, request: gr.Request):
        sid = session_id(request)
        setup, msg = service.load_checkpoint(sid, path or "")
        if setup is None:
            return {setup_msg: msg}
        return {**show_setup(setup, sid), setup_msg: msg, reply: msg, points: gr.update(visible=False),
                preset: gr.update(value=None), watch: texts.CONTINUED}

    @guarded(lambda msg: {setup_msg: msg, reply: msg})
    def on_trained(request: gr.Request):
        return on_resume(trained_run_path(), request)

    trained.click(on_trained, None, form_outputs + [setup_msg, reply, points, preset, watch])
    preset.input(on_preset, [preset, seed], form_outputs + [watch, setup_msg, reply, points])
    data.input(on_data, form_inputs, [model, points, latent, setup_msg, reply] + family_sliders + list(toggles))
    points.upload(on_setup, form_inputs, setup_msg)
    resume.upload(on_resume, resume, form_outputs + [setup_msg, reply, points, preset, watch])
    for comp in (model, seed):
        comp.input(on_setup, form_inputs, setup_msg)
    for comp in (latent, width):
        comp.release(on_setup, form_inputs, setup_msg)

    def family_knob_handler(index):
        @guarded(lambda msg: msg)
        def handler(value, request: gr.Request):
            return service.set_family_knob(session_id(request), index, value)
        return handler

    for i, slider in enumerate(family_sliders):
        slider.release(family_knob_handler(i), slider, knob_msg)

    def knob_handler(name):
        @guarded(lambda msg: msg)
        def handler(value, request: gr.Request):
            return service.set_knob(session_id(request), name, value)
        return handler

    def lr_dragged(name):
        @guarded(lambda msg: (msg, gr.skip()))
        def handler(value, request: gr.Request):
            reply, lr = service.set_lr_log(session_id(request), name, value)
            return reply, lr_text(lr) if lr is not None else gr.skip()   # the box shows the lr the run uses
        return handler

    def lr_typed(name):
        @guarded(lambda msg: (msg, gr.skip(), gr.skip()))
        def handler(text, request: gr.Request):
            sid = session_id(request)
            if str(text).strip() == lr_text(service.knob(sid, name)):   # focus left the box: nothing was typed
                return gr.skip(), gr.skip(), gr.skip()
            reply, lr = service.set_lr(sid, name, text)
            return reply, lr_text(lr) if lr is not None else gr.skip(), _log10(lr) if lr is not None else gr.skip()
        return handler

    for slider, box, name in ((lr_g, lr_g_typed, "lr_g"), (lr_d, lr_d_typed, "lr_d")):
        slider.release(lr_dragged(name), slider, [knob_msg, box])
        box.submit(lr_typed(name), box, [knob_msg, box, slider])
        box.blur(lr_typed(name), box, [knob_msg, box, slider])
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

    start.click(command(service.start), None, reply)
    pause.click(command(service.pause), None, reply)
    for button, kind in ((step, "both"), (step_d, "d"), (step_g, "g")):   # the answer says what the step changed
        button.click(command(lambda sid, kind=kind: step_and_report(service, sid, kind)), None, reply)
    reset.click(command(service.reset), None, reply)

    tick_outputs = [counter, status, losses, dprob, gradnorm, panel, grid, timeline, quality, classes, diagnosis, how,
                    quality_help]

    @guarded(lambda msg: skips(len(tick_outputs)))
    def on_tick(request: gr.Request):
        t = service.tick(session_id(request))

        def opt(v):
            return gr.skip() if v is None else v
        timeline_update = gr.skip() if t.timeline_max is None else gr.update(maximum=max(t.timeline_max, 1))
        return (t.counter, t.status, opt(t.losses), opt(t.dprob), opt(t.gradnorm), opt(t.panel), opt(t.grid_html),
                timeline_update, opt(t.quality), opt(t.classes), opt(t.diagnosis), opt(t.how_to_read),
                opt(t.quality_help))

    timer.tick(on_tick, None, tick_outputs, concurrency_limit=None, show_progress="hidden", queue=False)

    @guarded(lambda msg: msg)
    def on_timeline(index, request: gr.Request):
        return service.timeline_frame(session_id(request), index)

    timeline.change(on_timeline, timeline, frame, show_progress="hidden")

    @guarded(lambda msg: (msg, gr.skip(), gr.skip()))
    def on_rewind(index, request: gr.Request):
        sid = session_id(request)
        answer = service.rewind(sid, index)
        n, last = service.timeline_position(sid)        # the timeline follows: its last frame is the rewound step
        return answer, gr.update(maximum=max(n - 1, 1), value=last), service.timeline_frame(sid, last)

    rewind_btn.click(on_rewind, timeline, [reply, timeline, frame])

    # ---- the experiment in the page's address, the speed ---------------------------------------------------------
    @guarded(lambda msg: msg)
    def on_pace(value, request: gr.Request):
        return service.set_pace(session_id(request), value)

    pace.input(on_pace, pace, reply)

    @guarded(lambda msg: gr.skip())
    def on_link_tick(request: gr.Request):
        return link_query(service, session_id(request))

    link_timer.tick(on_link_tick, None, url_query, show_progress="hidden", queue=False).then(
        None, url_query, None, js=REPLACE_URL_JS, queue=False, show_progress="hidden")   # .change missed some
    copy_link.click(lambda: gr.update(visible=True), None, link_box, queue=False, show_progress="hidden").then(
        None, None, link_box, js=COPY_LINK_JS)

    classroom_hidden = [setup_box, batch, smoothing, r1, ema, decay, step_d, step_g]
    open_outputs = form_outputs + [preset, watch, reply, setup_msg, pace] + classroom_hidden

    @guarded(lambda msg: skips(len(open_outputs)))
    def on_open(request: gr.Request):
        """A page opened from a link: set the experiment up (paused) and show it; classroom=1 hides the advanced
        controls."""
        sid = session_id(request)
        setup, opened, answer = open_link(service, sid, dict(request.query_params) if request else {})
        hide = [gr.update(visible=False) if opened is not None and opened.classroom else gr.skip()
                for _ in classroom_hidden]
        if setup is None:
            return (*skips(len(form_outputs) + 2), answer or gr.skip(), gr.skip(), gr.skip(), *hide)
        shown = show_setup(setup, sid)
        return (*[shown.get(c, gr.skip()) for c in form_outputs], gr.update(value=opened.preset),
                service.preset_watch(opened.preset), answer, answer, opened.pace, *hide)

    def file_handler(fn):
        @guarded(lambda msg: (gr.update(visible=False), msg))
        def handler(request: gr.Request):
            path, msg = fn(session_id(request))
            return gr.update(value=path, visible=path is not None), msg
        return handler

    gif_btn.click(file_handler(service.export_gif), None, [download, file_msg])
    ckpt_btn.click(file_handler(service.checkpoint_file), None, [download, file_msg])
    wire_branch_panel(branch_panel, timeline=timeline, main_reply=reply, form_outputs=form_outputs, show_setup=show_setup)
    return {"timer": timer, "status": status, "open": (on_open, None, open_outputs)}

