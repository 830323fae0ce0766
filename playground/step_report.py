"""What one manual step changed, in one line: the Step, Step D and Step G buttons' answer.

A single update moves the curves by a pixel and the samples not at all to the eye, so the page says it in numbers:
the step counter, each loss and D's verdicts before and after the step ("Loss D 0.712 -> 0.695"), and, for D's
update, D's verdict on the same fakes before and after it (the PyTorch DCGAN example's D(G(z)) pair: the gap is
what this one D step did). Plain functions of two trainer snapshots; no Gradio.
"""
from __future__ import annotations

import math

import numpy as np

from playground.replies import Reply, done

WAIT_SECONDS = 10.0  # a step takes well under 1 s; a first step also builds the run, seconds on a loaded CPU
KIND_TEXT = {"both": "D then G", "d": "D only, G unchanged", "g": "G only, D unchanged"}
SHOWN = (("loss/D", "Loss D"), ("loss/G", "Loss G"), ("D(x)", "D(x) on reals"))


def _last(metrics: dict, key: str) -> float:
    """The newest finite value of a metric column (a D-only step leaves Loss G NaN), or NaN."""
    column = np.asarray(metrics.get(key, ()), dtype=np.float64)
    finite = column[np.isfinite(column)]
    return float(finite[-1]) if len(finite) else float("nan")


def _fmt(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.3f}"


def step_summary(before, after, kind: str) -> str:
    """One line from the snapshots before and after the step(s): step numbers, then each number the step moved."""
    step0 = before.step if before is not None else 0
    d_done = after.d_updates - (before.d_updates if before is not None else 0)
    g_done = after.g_updates - (before.g_updates if before is not None else 0)
    if d_done or g_done:      # what really ran since ``before`` (an earlier click's step may have finished too)
        kind = "both" if d_done and g_done else "d" if d_done else "g"
    parts = [f"**Step {step0:,} → {after.step:,}** ({KIND_TEXT.get(kind, kind)})"]
    latest = after.latest or {}
    for key, name in SHOWN:
        now = latest.get(key, float("nan"))
        if not math.isfinite(now):           # this step did not compute it (G's loss on a D-only step)
            continue
        was = _last(before.metrics, key) if before is not None else float("nan")
        parts.append(f"{name} {_fmt(was)} → {_fmt(now)}")
    fake_before, fake_after = latest.get("D(G(z))/before", float("nan")), latest.get("D(G(z))/after", float("nan"))
    if math.isfinite(fake_before) and math.isfinite(fake_after) and kind != "g":
        parts.append(f"D(G(z)) on the same fakes {_fmt(fake_before)} before D's update → {_fmt(fake_after)} after")
    elif math.isfinite(fake_before):                # a D-only step: G's phase did not ask D again afterwards
        parts.append(f"D(G(z)) {_fmt(fake_before)} on this batch's fakes, before D's update")
    if after.step == step0:
        parts.append("the step is still running: its numbers come with the next refresh")
    return " · ".join(parts)


def step_and_report(service, sid: str, kind: str) -> Reply:
    """Take one step of ``kind`` through the service, wait for it (a few seconds at most), and answer with what it
    changed; a refusal comes back unchanged."""
    trainer = service.registry.session(sid).live_trainer
    before = trainer.snapshot() if trainer is not None else None
    answer = service.step(sid, kind)
    if not answer.ok:
        return answer
    service.wait_idle(sid, WAIT_SECONDS)
    trainer = service.registry.session(sid).live_trainer
    if trainer is None:
        return answer
    return done(step_summary(before, trainer.snapshot(), kind))
