"""The Train tab's live refresh (the page's timer asks once a second): what changed since the page's last tick,
as figure JSON and HTML, from the visitor's trainer's published snapshot (no lock, no torch work)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ganengine.metrics.mixtures import PUBLISHED
from playground import figures, texts
from playground.live_plot import figure_json
from playground.pretrained_start import preview_html
from playground.figures_2d import add_manifold
from playground.scored_grid import scored_views_html
from playground.views import counter_text, diagnosis_text, status_text


@dataclass
class Tick:
    """One refresh of the live page; None fields did not change since the page's last tick."""
    counter: str
    status: str
    losses: Optional[str] = None       # figure JSON
    dprob: Optional[str] = None
    gradnorm: Optional[str] = None
    panel: Optional[str] = None        # D-output histograms (images) or the 2-D field
    grid_html: Optional[str] = None
    timeline_max: Optional[int] = None
    quality: Optional[str] = None
    classes: Optional[str] = None
    diagnosis: Optional[str] = None
    how_to_read: Optional[str] = None  # "How to read this", for the loss and family in use
    quality_help: Optional[str] = None  # what the quality plot measures, for the family (or 2-D data) in use
    running: bool = False


def tick_for(s) -> Tick:
    """A visitor session's live refresh: only what changed since its page's last tick is rebuilt and sent
    (``s.sent`` remembers what was)."""
    trainer = s.live_trainer
    if trainer is None:
        first = not s.sent.get("empty")
        s.sent["empty"] = True
        tick = Tick(counter=counter_text(None),
                    status=s.notice or "Ready: pick a preset or dataset, then press **Start**.")
        if first:
            tick.losses = figure_json(figures.loss_figure({}, ()))
            tick.dprob = figure_json(figures.dprob_figure({}, ()))
            tick.gradnorm = figure_json(figures.gradnorm_figure({}, ()))
            tick.panel = figure_json(figures.dhist_figure({}))
            tick.quality = figure_json(figures.quality_figure([], ""))
            tick.classes = figure_json(figures.class_histogram_figure(None))
            tick.grid_html = preview_html()   # a trained GAN (bundled) until the visitor's own run exists
            tick.diagnosis = "**Diagnosis:** appears once training runs."
        return tick
    snap = trainer.snapshot()
    sent = s.sent
    sent.pop("empty", None)
    tick = Tick(counter=counter_text(snap), status=status_text(snap), running=snap.running)
    if sent.get("version") != snap.version:
        sent["version"] = snap.version
        m, ev, run = snap.metrics, snap.events, snap.run_number
        tick.losses = figure_json(fresh_axes(figures.loss_figure(m, ev), run))
        tick.dprob = figure_json(fresh_axes(figures.dprob_figure(m, ev), run))
        tick.gradnorm = figure_json(fresh_axes(figures.gradnorm_figure(m, ev), run))
    if sent.get("visuals") != snap.visuals_version:
        sent["visuals"] = snap.visuals_version
        v = snap.visuals
        if snap.spec.is_points:
            field = figures.field_figure(v.get("field"), snap.spec.bounds, v.get("step"))
            field = add_manifold(field, v.get("field")) if s.views.get("manifold") else field  # G's latent grid
            tick.panel = figure_json(fresh_axes(field, f"{snap.run_number}-field"))
        else:
            tick.panel = figure_json(fresh_axes(figures.dhist_figure(v.get("d_hist", {}), v.get("step")),
                                                f"{snap.run_number}-hist"))
        if v.get("frame") is not None:
            tick.grid_html = scored_views_html(v, s.views.get("scores", False))   # D's verdict per sample
    n_frames = len(snap.timeline_frames)
    if sent.get("frames") != n_frames:
        sent["frames"] = n_frames
        tick.timeline_max = max(n_frames - 1, 0)
    if sent.get("quality") != len(snap.quality) or sent.get("quality_run") != snap.run_number:
        sent["quality"], sent["quality_run"] = len(snap.quality), snap.run_number
        tick.quality, tick.classes = quality_figures(snap)
    diag = diagnosis_text(snap)
    if sent.get("diagnosis") != diag:
        sent["diagnosis"] = tick.diagnosis = diag
    reading = (snap.knobs.loss, snap.config.family, snap.config.is_points)
    if sent.get("how_to_read") != reading:
        sent["how_to_read"] = reading
        tick.how_to_read = texts.how_to_read(*reading)
        tick.quality_help = texts.quality_help(snap.config.family, snap.config.is_points)
    return tick


def quality_figures(snap) -> tuple[str, str]:
    """The quality plot and the per-class plot (figure JSON) of a snapshot's quality history."""
    last = snap.quality[-1] if snap.quality else {}
    quality = figures.quality_figure(list(snap.quality), last.get("kind", ""), PUBLISHED.get(snap.spec.name))
    if last.get("per_style"):
        classes = figures.per_style_figure(last["per_style"])
    elif last.get("class_accuracy"):
        classes = figures.class_accuracy_figure(last["class_accuracy"], snap.spec.class_names or None)
    else:
        note = "Digit data only (2-D data: see the quality plot)." if snap.spec.is_points else \
            "No per-class view for this family." if last and "class_histogram" not in last else ""
        classes = figures.class_histogram_figure(last.get("class_histogram"), snap.spec.class_names or None,
                                                 note=note, unrecognisable=last.get("unrecognisable"))
    return figure_json(quality), figure_json(classes)


def fresh_axes(figure: dict, key) -> dict:
    """The figure with plotly's uirevision set to ``key``: the page keeps a visitor's zoom while the key stays (one
    run, one kind of panel) and starts from the new figure's own axes when it changes (a 2-D run's field kept its
    axes over the next image run's histogram, flattening its bars into a line)."""
    figure.setdefault("layout", {})["uirevision"] = str(key)
    return figure


def rewind_note(snap, step: int) -> str:
    """Where a rewind to a frame at ``step`` goes, said before it does (restore points are kept at fewer steps than
    frames: ganengine.history.RestorePoints)."""
    target = snap.rewind_target(step)
    if target is None:
        return "too old to rewind to (older than every restore point kept)"
    if target == step:
        return "Rewind goes to this step"
    return f"Rewind goes to step {target:,}, the nearest restore point kept before it"
