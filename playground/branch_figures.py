"""What the Compare panel draws for a run and its branch: the losses overlaid, the samples side by side, the latest
quality numbers next to each other, and both runs' settings with the differences marked. Plain dicts and HTML from
two Snapshots (ganengine.snapshot); no Gradio, no torch."""
from __future__ import annotations

import html
import math

from ganengine.branch import knob_differences
from playground.figures import DISC, FAKE, GREY, _finish, _layout, _line, _series, empty_figure, smooth
from playground.views import image_html

MAIN, BRANCH = "main run", "branch"
EXTRA_LOSS_COLOURS = ("rgb(0,136,55)", "rgb(230,120,20)", "rgb(120,120,120)")


def loss_overlay_figure(main, branch, fork_step: int) -> dict:
    """Both runs' smoothed losses on one plot: the main run solid, the branch dashed (drawn from the fork on; before
    it the two are one run), the fork step marked by a vertical line."""
    if main is None or branch is None or not len(main.metrics.get("step", [])):
        return empty_figure("Losses: main vs branch", "Fork the run at a timeline frame to compare.")
    keys = [k for k in ("loss/D", "loss/G") if k in main.metrics] + \
        [k for k in main.metrics if k.startswith("loss/") and k not in ("loss/D", "loss/G")][:len(EXTRA_LOSS_COLOURS)]
    colours = dict(zip(keys, (DISC, FAKE, *EXTRA_LOSS_COLOURS)))
    data = []
    for key in keys:
        name = key.replace("loss/", "Loss ")
        x, y = _series(main.metrics, key)
        data.append(_line(x, smooth(y), f"{name}: {MAIN}", colours[key]))
        bx, by = _series(branch.metrics, key)
        ys = smooth(by)
        after = bx >= fork_step                             # the branch's own path: from the fork on
        data.append(_line(bx[after], ys[after], f"{name}: {BRANCH}", colours[key], dash="dash"))
    # The fork is named on the x axis's title, not in an annotation above the plot: the legend sits there (its
    # second line of the top margin) and an annotation at the top collided with it (seen in the Chromium screenshot).
    layout = _layout("Losses: main run solid, branch dashed (smoothed)", ytitle="loss", height=300,
                     xtitle=f"step (dotted line: fork at step {fork_step:,})")
    layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": fork_step, "x1": fork_step, "y0": 0,
                         "y1": 1, "line": {"color": GREY, "width": 1.5, "dash": "dot"}}]
    return _finish(data, layout)


def samples_html(main, branch) -> str:
    """The two runs' latest samples side by side. Both draw the same fixed noise (the run's seed fixes it), so a
    difference between the grids is the branch's doing."""
    cells = []
    for label, snap in ((MAIN, main), (BRANCH, branch)):
        frame = None if snap is None else snap.visuals.get("frame")
        step = None if snap is None else snap.visuals.get("step")
        caption = f"{label}: step {step:,}" if step is not None else f"{label}: no samples yet"
        cells.append(f'<div class="gp-branch-cell" style="flex:1 1 0;min-width:0">'
                     f'{image_html(frame, caption, alt=f"{label} samples")}</div>')
    return ('<style>.gp-branch-cell img{max-width:100%;height:auto}</style>'    # two columns, even when narrow
            '<div class="gp-branch-samples" style="display:flex;gap:12px;flex-wrap:nowrap">' + "".join(cells) +
            "</div>")


def _number(v) -> str:
    if isinstance(v, bool) or v is None:
        return html.escape(str(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return html.escape(f"{v:,}" if isinstance(v, int) else str(v))


def _table(title: str, rows: list, highlight: set) -> str:
    head = (f'<table class="gp-branch-table" style="border-collapse:collapse;font-size:13px">'
            f'<caption style="text-align:left;font-weight:600">{html.escape(title)}</caption>'
            f'<tr><th style="text-align:left;padding:2px 10px 2px 0"></th><th style="text-align:left;padding:2px 10px">'
            f'{MAIN}</th><th style="text-align:left;padding:2px 10px">{BRANCH}</th></tr>')
    body = []
    for name, a, b in rows:
        mark = ' style="background:rgba(255,190,0,0.35);font-weight:600"' if name in highlight else ""
        body.append(f'<tr{mark}><td style="padding:2px 10px 2px 0">{html.escape(name)}</td>'
                    f'<td style="padding:2px 10px">{_number(a)}</td><td style="padding:2px 10px">{_number(b)}</td></tr>')
    return head + "".join(body) + "</table>"


def settings_html(main, branch, info: dict, labels: dict) -> str:
    """Each run's settings, one row per knob, the knobs that differ highlighted (and listed first), with the fork
    step, each run's step and status."""
    if main is None or branch is None:
        return '<div class="gp-empty">No branch: fork the run at a timeline frame.</div>'
    diff = knob_differences(main.knobs, branch.knobs)
    a, b = main.knobs.to_dict(), branch.knobs.to_dict()
    order = sorted(a, key=lambda k: (k not in diff, k))
    rows = [("status", main.status, branch.status), ("step", main.step, branch.step),
            ("forked at step", info.get("step"), info.get("step"))]
    rows += [(labels.get(k, k), a.get(k), b.get(k)) for k in order]
    changed = ", ".join(f"{labels.get(k, k)} {_number(x)} → {_number(y)}" for k, (x, y) in diff.items())
    summary = (f"<p><b>Differences:</b> {changed}</p>" if diff else
               "<p><b>Same settings</b>: the branch follows the main run exactly (until one of them changes).</p>")
    return summary + _table("Settings", rows, {labels.get(k, k) for k in diff})


QUALITY_KEYS = ("modes", "high_quality", "fd_2d", "fd", "accuracy", "confidence", "classes", "psnr", "ssim",
                "l1", "agreement", "cycle_l1", "kl")


def quality_html(main, branch) -> str:
    """The latest quality measurement of each run, next to each other (the numbers both runs have)."""
    qa = main.quality[-1] if main is not None and main.quality else {}
    qb = branch.quality[-1] if branch is not None and branch.quality else {}
    if not qa and not qb:
        return '<div class="gp-empty">Quality is measured every few seconds of training, in each run.</div>'
    keys = [k for k in ("step", *QUALITY_KEYS) if k in qa or k in qb]
    keys += [k for k in {**qa, **qb} if k not in keys and k not in ("kind", "data", "n", "time")
             and isinstance(qa.get(k, qb.get(k)), (int, float)) and not isinstance(qa.get(k, qb.get(k)), bool)][:6]
    rows = [(quality_name(k), qa.get(k), qb.get(k)) for k in keys]
    return _table("Latest quality", rows, set())


# What each quality key means, in the words the quality plots use (playground/quality_figures.py, figures_2d.py);
# a key not listed reads with its underscores as spaces.
QUALITY_NAMES = {
    "step": "measured at step", "modes": "modes captured", "num_modes": "modes in the data",
    "high_quality": "% high quality", "reverse_kl": "reverse KL (0 = modes even)", "mode_counts": "samples per mode",
    "fd": "FD (lower is better)", "fd_floor": "FD real-vs-real floor", "fd_2d": "2-D FD (lower is better)",
    "classes": "classes present", "confidence": "classifier confidence", "unrecognisable": "share unrecognisable",
    "kl_uniform": "KL to even classes", "accuracy": "read as its digit", "psnr": "PSNR (dB)", "ssim": "SSIM",
    "l1": "L1 to the target", "energy": "energy distance", "energy_floor": "energy real-vs-real floor",
    "precision": "precision", "recall": "recall", "coverage": "coverage", "density": "density",
    "cycle_aba": "cycle L1 A→B→A", "cycle_bab": "cycle L1 B→A→B", "label_ab": "A→B read as its digit",
    "label_ba": "B→A read as its digit", "l1_ab": "L1 A→B to the true B", "l1_ba": "L1 B→A to the true A",
    "content": "content kept", "style_match": "style match", "change": "change (1 = true style's)",
    "swd_32": "SWD x1e3, 32 px", "swd_16": "SWD x1e3, 16 px", "swd_floor": "SWD real-vs-real floor",
    "class_agreement": "pairs read as one digit", "pixel_agreement": "pixel agreement", "kept": "clips keeping a class",
    "warp": "warp error", "agreement": "agreement",
}


def quality_name(key: str) -> str:
    """A quality key as a person reads it: "high_quality" -> "% high quality"."""
    return QUALITY_NAMES.get(key, key.replace("_", " "))
