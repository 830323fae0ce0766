"""Slow motion's stages: a recorded iteration (ganengine.slow_motion) told as GAN Lab's five stages per update.

For every update of the iteration, in the order the family ran them (gan: d_steps D updates, then G; CycleGAN: G,
then D), five stages, with GAN Lab's titles (poloclub/ganlab demo/ganlab.html, the slow-motion tooltips):
  sample     "Generator derives samples from noise" (or from its input image, for the translation families)
  classify   "Discriminator classifies samples" (D phase: real and fake; G phase: "fake samples only")
  loss       "Computes discriminator / generator loss": the loss knob's formula and this iteration's value
  gradients  "Computes ... gradients": per-layer gradient norms; for G on 2-D data, dL_G/dG(z) on each fake
  update     "Updates ... based on gradients": per-layer weight changes; D's field before / after, G's samples
             before / after
Each stage carries the numbers of this iteration and the data its views draw (numpy arrays). A family adds a
sentence to any stage with Family.stage_notes {"D/sample": ..., "G/loss": ...} (its other loss terms, its pools).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ganengine.slow_motion import Recording

TITLES = {("D", "sample"): "Generator derives samples from noise",
          ("D", "classify"): "Discriminator classifies samples",
          ("D", "loss"): "Computes discriminator loss",
          ("D", "gradients"): "Computes discriminator gradients",
          ("D", "update"): "Updates discriminator based on gradients",
          ("G", "sample"): "Generator derives samples from noise",
          ("G", "classify"): "Discriminator classifies fake samples only",
          ("G", "loss"): "Computes generator loss",
          ("G", "gradients"): "Computes generator gradients",
          ("G", "update"): "Updates generator based on gradients"}
KINDS = ("sample", "classify", "loss", "gradients", "update")
# The loss knob's objectives (ganengine.losses), as a learner reads them; l = D's logit, D(.) = sigmoid(l).
D_LOSS = {"ns": "[BCE(D(x), 1) + BCE(D(G(z)), 0)] / 2: small when D says 1 to reals and 0 to fakes",
          "minimax": "[BCE(D(x), 1) + BCE(D(G(z)), 0)] / 2: small when D says 1 to reals and 0 to fakes",
          "lsgan": "[(l_real - 1)^2 + l_fake^2] / 2: D's raw output should be 1 on reals and 0 on fakes",
          "hinge": "relu(1 - l_real) + relu(1 + l_fake): zero once reals score above 1 and fakes below -1",
          "wgan-gp": "mean l_fake - mean l_real + lambda (||grad D|| - 1)^2 (lambda: the gradient-penalty weight, 10 by "
                     "default): the critic widens the score gap"}
G_LOSS = {"ns": "-log D(G(z)): small when D believes the fakes",
          "minimax": "log(1 - D(G(z))) (the paper's minimax form): it saturates while D rejects the fakes",
          "lsgan": "(l_fake - 1)^2 / 2: pull D's output on fakes to the real target",
          "hinge": "-mean l_fake: raise D's score of the fakes",
          "wgan-gp": "-mean l_fake: raise the critic's score of the fakes"}


@dataclass
class Stage:
    phase: str            # "D" or "G": whose update this stage belongs to
    kind: str             # one of KINDS
    number: int           # 1-based, across the whole iteration
    total: int
    title: str            # GAN Lab's words
    text: str             # one or two sentences with this iteration's numbers
    data: dict = field(default_factory=dict)   # what its views draw: points, images, scores, bars, field


def _np(t):
    return None if t is None else t.detach().float().cpu().numpy()


def _scores(logits: torch.Tensor) -> np.ndarray:
    """D's verdict per sample, sigmoid of its (mean patch) logit: (B,)."""
    return _np(torch.sigmoid(logits.reshape(len(logits), -1).float().mean(1)))


def _is_points(t) -> bool:
    return t is not None and t.dim() == 2 and t.shape[1] == 2


def _is_images(t) -> bool:
    return t is not None and t.dim() == 4 and t.shape[1] in (1, 3)


def _sample_arg(fwd):
    """The samples a D call scored: its last argument shaped like points or images (D(x, y), pix2pix's D(a, b))."""
    args = [a for a in fwd.args if isinstance(a, torch.Tensor) and (_is_points(a) or _is_images(a))]
    return args[-1] if args else None


def _phases(rec: Recording) -> list:
    """The events split into updates: [{"forwards": [index], "update": Update, "record": (l_r, l_f) or None}]."""
    phases, cur = [], {"forwards": [], "update": None, "record": None}
    for kind, item in rec.events:
        if kind == "forward":
            cur["forwards"].append(item)
        elif kind == "update":
            cur["update"] = item
            phases.append(cur)
            cur = {"forwards": [], "update": None, "record": None}
        elif kind == "record":   # families record D's logits after D's update: they belong to that update
            last = phases[-1] if phases else None
            target = last if last and last["update"].group == "D" and last["record"] is None else cur
            target["record"] = item
    return phases


def build_stages(rec: Recording, run) -> list:
    """The stages of a recorded iteration of ``run``'s family (5 per update), with their narration and view data."""
    phases = _phases(rec)
    notes = getattr(type(run.family), "stage_notes", {}) or {}
    n_d = sum(p["update"].group == "D" for p in phases)
    stages, d_seen, field_now = [], 0, None
    for phase in phases:
        upd = phase["update"]
        who = "D" if upd.group == "D" else "G"
        if who == "D":
            d_seen += 1
        tag = f" (D update {d_seen} of {n_d})" if who == "D" and n_d > 1 else ""
        if who == "D" and upd.field_before is not None:
            field_now = upd.field_before
        parts = _phase_stages(rec, run, phase, who, field_now, last_d=who == "D" and d_seen == n_d)
        if who == "D" and upd.field_after is not None:
            field_now = upd.field_after
        for kind in KINDS:
            text, data = parts[kind]
            note = notes.get(f"{who}/{kind}", "")
            stages.append(Stage(phase=who, kind=kind, number=0, total=0, title=TITLES[(who, kind)] + tag,
                                text=(text + (" " + note if note else "")).strip(), data=data))
    for i, s in enumerate(stages):
        s.number, s.total = i + 1, len(stages)
    return stages


def _points_view(rec, field_now, **points) -> dict:
    if rec.field_xy is None:
        return {}
    view = {"xs": rec.field_xy[0], "ys": rec.field_xy[1], "heat": field_now, "real": rec.real_points}
    view.update({k: v for k, v in points.items() if v is not None})
    return {"points": view}


def _phase_stages(rec, run, phase, who, field_now, last_d) -> dict:
    """{kind: (narration, view data)} for one update."""
    fw = [rec.forwards[i] for i in phase["forwards"]]
    upd = phase["update"]
    loss_name = run.knobs.loss
    made = [f for f in fw if f.group == "G" and (_is_points(f.output) or _is_images(f.output))]
    d_calls = [f for f in fw if f.group == "D"]
    out = {}

    # 1. sample
    if made:
        f = made[0]
        n = int(f.args[0].shape[0]) if f.args and isinstance(f.args[0], torch.Tensor) else len(f.output)
        source = "noise z" if type(run.family).latent else "its input images"
        text = f"{f.net} turns {n} draws of {source} into {n} fake samples."
        data = _points_view(rec, field_now, fake=_np(f.output)) if _is_points(f.output) else \
            {"images": {"fake": _np(f.output[:16])}}
    else:
        pushed = next((f for f in rec.forwards if f.grad is not None), None) if who == "G" else None
        if pushed is not None:
            n = len(pushed.output)
            text = (f"G's samples for this update are the {n} fakes it drew for D's last update (one G forward per "
                    f"iteration, as the PyTorch DCGAN example does); this time the path back to G's weights counts.")
            data = _points_view(rec, field_now, fake=_np(pushed.output)) if _is_points(pushed.output) else \
                {"images": {"fake": _np(pushed.output[:16])}} if _is_images(pushed.output) else {}
        else:
            text = "No new samples here: this update uses the fakes G made earlier in this iteration."
            data = {}
    out["sample"] = (text, data)

    # 2. classify
    data, text = {}, ""
    if who == "D" and phase["record"] is not None:
        l_r, l_f = phase["record"]
        real_s, fake_s = _scores(l_r), _scores(l_f)
        data["hist"] = {"real": real_s, "fake": fake_s}
        text = (f"D scores {len(real_s)} real and {len(fake_s)} fake samples: mean D(x) = {real_s.mean():.2f} on the "
                f"real ones, mean D(G(z)) = {fake_s.mean():.2f} on the fakes (1 = 'real', 0 = 'fake').")
        by_out = {f.storage: f for f in d_calls}
        real_f, fake_f = by_out.get(l_r.untyped_storage().data_ptr()), by_out.get(l_f.untyped_storage().data_ptr())
        real_x = _sample_arg(real_f) if real_f else None
        fake_x = _sample_arg(fake_f) if fake_f else None
        if _is_points(fake_x):
            if _is_points(real_x):
                rec.real_points = _np(real_x)
            data.update(_points_view(rec, field_now, fake=_np(fake_x[:len(fake_s)])))
        elif _is_images(fake_x):
            data["images"] = {"fake": _np(fake_x[:16]), "fake_scores": fake_s[:16],
                              "real": _np(real_x[:8]) if _is_images(real_x) else None, "real_scores": real_s[:8]}
    elif d_calls:
        scores = np.concatenate([_scores(f.output) for f in d_calls])
        data["hist"] = {"fake": scores}
        text = (f"Only fakes this time: D scores {len(scores)} of G's samples, mean D(G(z)) = {scores.mean():.2f}. "
                f"G wants this number to rise.")
        fake_x = _sample_arg(d_calls[0])
        if _is_points(fake_x):
            data.update(_points_view(rec, field_now, fake=_np(fake_x)))
        elif _is_images(fake_x):
            data["images"] = {"fake": _np(fake_x[:16]), "fake_scores": _scores(d_calls[0].output)[:16]}
    else:
        text = "This update asks no discriminator."
    out["classify"] = (text, data)

    # 3. loss
    terms = {k: v for k, v in rec.scalars.items() if k.startswith(f"loss/{who}/")}
    formula = (D_LOSS if who == "D" else G_LOSS).get(loss_name, loss_name)
    text = f"{who}'s loss is {upd.loss:.3f}. With the {loss_name} loss, L_{who} = {formula}."
    if terms:
        text += " Its parts: " + ", ".join(f"{k.split('/', 2)[2]} {v:.3f}" for k, v in terms.items()) + "."
    out["loss"] = (text, {"loss": {"total": upd.loss, "terms": terms, "who": who}})

    # 4. gradients
    layers = [(name, g) for name, g, _, _ in upd.layers]
    top = max(layers, key=lambda x: x[1]) if layers else ("-", 0.0)
    text = (f"Backpropagation gives every weight of {who} its gradient: total norm {upd.grad_norm:.3g}, largest in "
            f"{top[0]} ({top[1]:.3g}).")
    data = {"bars": {"title": f"{who}'s gradient norm per layer", "items": layers}}
    pushed = next((f for f in rec.forwards if f.grad is not None), None)
    if who == "G" and pushed is not None and _is_points(pushed.output):
        push = -_np(pushed.grad) * len(pushed.grad)   # per-sample push, not divided by the batch mean
        data.update(_points_view(rec, field_now, fake=_np(pushed.output), push=push))
        text += " The arrows show which way G's loss pushes each fake: toward where D says 'real'."
    out["gradients"] = (text, data)

    # 5. update
    lr = run.opt[upd.group].param_groups[0]["lr"]
    moved = sum(d ** 2 for _, _, d, _ in upd.layers) ** 0.5
    size = sum(w ** 2 for _, _, _, w in upd.layers) ** 0.5
    text = (f"Adam moves {who}'s weights a step against the gradient (lr {lr:.2g}): they change by {moved:.3g} in all, "
            f"{100 * moved / max(size, 1e-12):.2g}% of their size.")
    data = {"bars": {"title": f"How far each layer of {who} moved", "items": [(n, d) for n, _, d, _ in upd.layers]}}
    if who == "D":
        if upd.field_after is not None:
            data.update(_points_view(rec, upd.field_after))
            data["points"]["heat_before"] = upd.field_before
            text += " D's verdict over the plane shifts (shown after the update)."
        before, after = rec.scalars.get("D(G(z))/before"), rec.scalars.get("D(G(z))/after")
        if last_d and before is not None and after is not None:
            text += f" On the same fakes D now says {after:.2f} (before its update: {before:.2f})."
    elif upd.g_after is not None and upd.g_after[1] is not None:
        index, after = upd.g_after
        before = rec.forwards[index].output
        if _is_points(after):
            data.update(_points_view(rec, field_now, fake=_np(after), fake_before=_np(before)))
            text += " The fakes move (faint: before, solid: after)."
        elif _is_images(after):
            data["images"] = {"before": _np(before[:8]), "after": _np(after[:8])}
            text += " The same inputs through the new G: before (top) and after (bottom)."
    out["update"] = (text, data)
    return out
