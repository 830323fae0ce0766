"""The Train tab's "Branch and compare" panel: fork the run at the timeline's frame with one knob changed, then watch
both runs side by side. Only wiring: each handler is one BranchService call (playground/branch_service.py).

Two hooks in playground/train_tab.py: ``build_branch_panel`` inside the layout (under the quality plots), and
``wire_branch_panel`` once the tab's own components exist (the timeline it forks from, the form "keep" refreshes).
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from playground.branch_service import BranchService
from playground.live_plot import live_plot
from playground.train_service import KNOB_LABELS, LIVE_KNOBS, TrainService
from playground.ui_common import guarded, session_id, skips

HELP = ("Fork the run at the frame picked on the timeline above: the branch starts from that frame's restore point "
        "(weights, optimisers and random state exactly as they were), with the one knob you change here. Both then "
        "train side by side; with no change the branch follows the run step for step.")


@dataclass
class BranchPanel:
    service: BranchService
    knob: object
    value: object
    fork: object
    start: object
    pause: object
    start_both: object
    pause_both: object
    keep: object
    discard: object
    reply: object
    slots: object
    settings: object
    losses: object
    samples: object
    quality: object
    quality_main: object
    quality_branch: object
    timer: object


def build_branch_panel(service: TrainService) -> BranchPanel:
    """The panel's components (call inside the Train tab's layout)."""
    with gr.Accordion("Branch and compare: fork the run at a timeline frame, change a knob, watch both", open=False,
                      elem_id="gp-branch") as panel:
        gr.Markdown(HELP)
        slots = gr.Markdown("", elem_id="gp-branch-slots")
        with gr.Row(equal_height=True):
            knob = gr.Dropdown([(KNOB_LABELS[k], k) for k in LIVE_KNOBS], value="lr_d", label="Knob to change",
                               elem_id="gp-branch-knob", scale=2)
            value = gr.Textbox(label="Its value in the branch", placeholder="e.g. 0.001, hinge, 3",
                               elem_id="gp-branch-value", scale=2)
            fork = gr.Button("Fork at this frame", variant="primary", elem_id="gp-branch-fork", scale=1)
        with gr.Row():
            start_both = gr.Button("▶ Start both", size="sm", elem_id="gp-branch-start-both")
            pause_both = gr.Button("❚❚ Pause both", size="sm", elem_id="gp-branch-pause-both")
            start = gr.Button("▶ Branch only", size="sm", elem_id="gp-branch-start")
            pause = gr.Button("❚❚ Branch", size="sm", elem_id="gp-branch-pause")
            keep = gr.Button("✓ Keep branch (make it the run)", size="sm", elem_id="gp-branch-keep")
            discard = gr.Button("✕ Discard branch", size="sm", variant="stop", elem_id="gp-branch-discard")
        reply = gr.Markdown("", elem_id="gp-branch-reply")
        with gr.Row(equal_height=False):
            # columns with a min width: on a phone the two wrap (one above the other) instead of squeezing the
            # samples beside the table
            with gr.Column(min_width=300):
                settings = gr.HTML("", elem_id="gp-branch-settings")
            with gr.Column(min_width=300):
                samples = gr.HTML("", elem_id="gp-branch-samples")
        losses = live_plot(elem_id="gp-branch-losses")
        quality = gr.HTML("", elem_id="gp-branch-quality")
        with gr.Row():
            quality_main = live_plot(elem_id="gp-branch-quality-main")
            quality_branch = live_plot(elem_id="gp-branch-quality-branch")
    # The panel refreshes only while it is open: a closed panel (and every background tab's) sends no requests. Eight
    # tabs of one browser polling twice a second kept Chromium's six connections per host busy and its renderer too
    # busy to run a closing tab's pagehide beacon (playground/leave.py).
    timer = gr.Timer(1.0, active=False)
    panel.expand(lambda: gr.Timer(active=True), None, timer, queue=False, show_progress="hidden")
    panel.collapse(lambda: gr.Timer(active=False), None, timer, queue=False, show_progress="hidden")
    return BranchPanel(BranchService(service), knob, value, fork, start, pause, start_both, pause_both, keep,
                       discard, reply, slots, settings, losses, samples, quality, quality_main, quality_branch, timer)


def wire_branch_panel(p: BranchPanel, *, timeline, main_reply, form_outputs: list, show_setup) -> None:
    """The panel's handlers. timeline: the Train tab's frame slider (the fork's frame); main_reply: the tab's reply
    box; form_outputs and show_setup(setup, sid): how the tab shows a run's settings (after "keep branch")."""
    svc = p.service

    @guarded(lambda msg: msg)
    def on_fork(index, knob, value, request: gr.Request):
        return svc.fork(session_id(request), index, knob, value)

    p.fork.click(on_fork, [timeline, p.knob, p.value], p.reply, concurrency_limit=None)

    def command(fn):
        @guarded(lambda msg: msg)
        def handler(request: gr.Request):
            return fn(session_id(request))
        return handler

    for button, fn in ((p.start, svc.start), (p.pause, svc.pause), (p.start_both, svc.start_both),
                       (p.pause_both, svc.pause_both), (p.discard, svc.discard)):
        button.click(command(fn), None, p.reply)

    @guarded(lambda msg: (msg, *skips(len(form_outputs) + 1)))
    def on_keep(request: gr.Request):
        sid = session_id(request)
        answer = svc.keep(sid)
        if not answer.ok:
            return (answer, *skips(len(form_outputs) + 1))
        snap = svc.registry.session(sid).live_trainer.snapshot()
        shown = show_setup({**snap.config.to_dict(), **snap.knobs.to_dict()}, sid)
        return (answer, answer, *[shown.get(c, gr.skip()) for c in form_outputs])

    p.keep.click(on_keep, None, [p.reply, main_reply, *form_outputs])

    outputs = [p.slots, p.losses, p.samples, p.settings, p.quality, p.quality_main, p.quality_branch, p.knob]
    names = ("losses", "samples", "settings", "quality", "quality_main", "quality_branch")

    @guarded(lambda msg: skips(len(outputs)))
    def on_tick(request: gr.Request):
        sid = session_id(request)
        view = svc.compare(sid)
        choices = svc.knob_choices(sid)
        sent = svc.registry.session(sid).sent
        knob_update = gr.skip()
        if sent.get("branch_knobs") != choices:      # a family's own knobs join the list when the family changes
            sent["branch_knobs"] = choices
            knob_update = gr.update(choices=choices)
        return (view["slots"], *[view.get(n, gr.skip()) for n in names], knob_update)

    p.timer.tick(on_tick, None, outputs, concurrency_limit=None, show_progress="hidden", queue=False)
