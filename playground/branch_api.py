"""The named API endpoint ``/branch``: branch and compare (issue 15) for a gradio_client visitor, as the page's
"Branch and compare" panel does it (playground/branch_compare.py): fork the run at a timeline frame with one knob
changed, compare both runs as numbers, start / pause the branch, keep it (it becomes the run) or discard it.

One endpoint with an ``action`` argument, over playground.branch_service.BranchService (the same rules as the page:
a visitor holds at most a run and one branch, each takes one of the server's training slots while it trains). Every
answer is JSON with "ok" and a sentence ("message"); "compare" adds both runs' status. No figures: a client that
wants curves reads /status's metrics per run here.
"""
from __future__ import annotations

import json
import math

import gradio as gr

from ganengine.branch import knob_differences
from playground.branch_service import NO_BRANCH, BranchService
from playground.form_values import whole_number
from playground.ui_common import session_id

ACTIONS = ("fork", "compare", "start", "pause", "keep", "discard")


def run_summary(snap) -> dict:
    """One run's state as the API says it (the fields of /status that a comparison needs)."""
    latest = {k: (v if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in snap.latest.items()}
    q = snap.quality[-1] if snap.quality else {}
    return {"status": snap.status, "step": snap.step, "latest": latest, "knobs": snap.knobs.to_dict(),
            "quality": {k: v for k, v in q.items() if not isinstance(v, list)}}


def compare_json(svc: BranchService, sid: str) -> dict:
    """Both runs side by side: the fork step, the settings that differ, each run's status, the slots sentence."""
    s = svc.registry.session(sid)
    main, branch = s.live_trainer, svc._branch(sid)
    if branch is None or main is None:
        return {"ok": False, "message": NO_BRANCH, "slots": svc.slots_text(sid)}
    ms, bs = main.snapshot(), branch.snapshot()
    diff = knob_differences(ms.knobs, bs.knobs)
    return {"ok": True, "message": "Both runs, as they are now.", "fork_step": int(s.branch_info.get("step", 0)),
            "differences": {k: {"main": a, "branch": b} for k, (a, b) in diff.items()},
            "main": run_summary(ms), "branch": run_summary(bs), "slots": svc.slots_text(sid)}


def frame_index(svc: BranchService, sid: str, frame) -> int | None:
    """The timeline frame as an index from the start; negative counts from the end (-1: the latest frame)."""
    i = whole_number(frame, -2**62, 2**62)
    if i is None:
        return None
    trainer = svc.registry.session(sid).live_trainer
    n = len(trainer.snapshot().timeline_steps) if trainer is not None else 0
    return int(i) + n if i < 0 and n else int(i)


def add_branch_api(train_service) -> str:
    """Register ``/branch`` inside the Blocks being built; returns its api_name (for the public list)."""
    svc = BranchService(train_service)

    def api_branch(action: str = "compare", frame: int = -1, knob: str = "", value: str = "",
                   request: gr.Request = None) -> str:
        """Branch and compare: fork this client's run at a timeline frame with one setting changed, train both,
        compare them, then keep or discard the branch. Returns JSON with "ok" and "message".

        Args:
            action: "fork", "compare" (both runs' step, status, latest scalars, knobs and quality, the fork step and
                the settings that differ), "start" or "pause" (the branch only), "keep" (the branch becomes this
                client's run, the old run is closed) or "discard".
            frame: fork only: the timeline frame to fork at, by index (0 = the first frame, -1 = the latest); the
                branch starts from the latest restore point at or before it.
            knob: fork only: the live setting the branch changes, by its /set_knobs name, such as "lr_d", "loss" or
                "d_steps" (a family's own knobs too).
            value: fork only: its value in the branch, as text, such as "0.004" or "hinge".
        """
        sid = session_id(request)
        act = str(action or "").strip().lower()
        if act not in ACTIONS:
            return json.dumps({"ok": False, "message": f"action must be one of {', '.join(ACTIONS)}; got "
                                                       f"{str(action)[:30]!r}"})
        if act == "compare":
            return json.dumps(compare_json(svc, sid))
        if act == "fork":
            index = frame_index(svc, sid, frame)
            if index is None:
                return json.dumps({"ok": False, "message": "frame must be a whole number (-1: the latest frame)"})
            reply = svc.fork(sid, index, str(knob or "").strip(), value)
        else:
            reply = getattr(svc, act)(sid)
        return json.dumps({"ok": reply.ok, "message": str(reply)})

    gr.api(api_branch, api_name="branch", concurrency_limit=8, concurrency_id="api")
    return "branch"
