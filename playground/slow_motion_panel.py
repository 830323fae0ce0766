"""The Train tab's "Slow motion" accordion: Previous / Next stage, Play / Pause with a speed, the narration and views.

Only wiring: each handler is one playground.slow_motion.SlowMotion call. Previous stage steps back through
the stages already recorded (nothing re-runs). Play is a gr.Timer that presses Next stage
every few seconds (the speed slider) until Pause.
"""
from __future__ import annotations

import gradio as gr

from playground.live_plot import live_plot
from playground.slow_motion import INTRO, SPEEDS, SlowMotion
from playground.ui_common import guarded, session_id, skips

CSS = """
.gp-sm-progress { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; }
.gp-sm-chip { border: 2px solid; border-radius: 6px; padding: 1px 6px; font-size: 0.8em; font-weight: 600; }
.gp-sm-row { display: flex; gap: 8px; align-items: flex-start; margin: 4px 0; }
.gp-sm-tiles { display: flex; flex-wrap: wrap; gap: 4px; }
.gp-sm-tile { margin: 0; border: 3px solid; border-radius: 6px; padding: 1px; width: 64px; text-align: center; }
.gp-sm-tile img { max-width: 56px; }
.gp-sm-tile figcaption { font-size: 0.75em; }
.gp-sm-note { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""


def build_slow_motion_panel(service) -> None:
    """The accordion, inside the Train tab (service: its TrainService)."""
    slow = SlowMotion(service)
    with gr.Accordion("Slow motion: one step in narrated stages (GAN Lab's ten)", open=False, elem_id="gp-slow"):
        gr.HTML(f"<style>{CSS}</style>", padding=False)
        with gr.Row(equal_height=True):
            prev = gr.Button("‹ Previous stage", size="sm", elem_id="gp-sm-prev")
            nxt = gr.Button("Next stage ›", variant="primary", size="sm", elem_id="gp-sm-next")
            play = gr.Button("▶ Play", size="sm", elem_id="gp-sm-play")
            stop = gr.Button("❚❚ Pause", size="sm", elem_id="gp-sm-pause")
            speed = gr.Slider(SPEEDS[0], SPEEDS[1], value=2.0, step=0.5, label="seconds per stage",
                              elem_id="gp-sm-speed", buttons=[])
        progress = gr.HTML("", elem_id="gp-sm-progress")
        header = gr.Markdown(INTRO, elem_id="gp-sm-text")
        reply = gr.Markdown("", elem_id="gp-sm-reply")
        with gr.Row(equal_height=False):
            with gr.Column(min_width=300):
                pictures = gr.HTML("", elem_id="gp-sm-pictures")
                with gr.Column(visible=False, min_width=300) as main_box:   # the 2-D view, for 2-D data only
                    main = live_plot(height=360, elem_id="gp-sm-main")
            with gr.Column(min_width=300):
                side = live_plot(height=260, elem_id="gp-sm-side")
        timer = gr.Timer(2.0, active=False)

    outputs = [header, progress, pictures, main, main_box, side, reply]

    @guarded(lambda msg: (*skips(6), msg))
    def on_next(request: gr.Request):
        v = slow.next_stage(session_id(request))
        return (v.header, v.progress, v.pictures, v.main or gr.skip(), gr.update(visible=v.plane), v.side,
                v.reply)

    @guarded(lambda msg: (*skips(6), msg, gr.skip()))
    def on_previous(request: gr.Request):
        v = slow.previous_stage(session_id(request))
        return (v.header, v.progress, v.pictures, v.main or gr.skip(), gr.update(visible=v.plane), v.side,
                v.reply, gr.Timer(active=False))      # going back stops Play: the visitor reads the stage

    nxt.click(on_next, None, outputs, show_progress="hidden")
    prev.click(on_previous, None, outputs + [timer], show_progress="hidden")
    timer.tick(on_next, None, outputs, show_progress="hidden")
    play.click(lambda s: gr.Timer(value=float(s), active=True), speed, timer)
    stop.click(lambda: gr.Timer(active=False), None, timer)
    speed.release(lambda s: gr.Timer(value=float(s)), speed, timer)
