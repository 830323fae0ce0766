"""Plain-language diagnostics from a run's metric traces: each names its evidence and suggests one change.

Rules (window = the most recent WINDOW_FRACTION of the run, at least MIN_ROWS rows):
- diverged      a rollback event exists: a loss or a weight became NaN/inf.
- D is winning  mean D(x) > 0.85 and mean D(G(z)) (after D's update) < 0.15 over the window, and G's gradient is
                vanishing (window median below 5% of its earlier peak) or the loss is the saturating minimax one.
                Goodfellow et al. 2014, section 3: "Early in learning, when G is poor, D can reject samples with
                high confidence ... log(1 - D(G(z))) saturates."
- mode collapse mixtures: fewer modes than the mixture has, or reverse KL > 0.3; digits: fewer than all classes
                hold 1% of the samples, or KL to uniform > 0.3; in each of the last two measurements, once the run
                is past MIN_COLLAPSE_STEPS (early samples are blobs that any classifier sorts unevenly).
- oscillation   D(G(z)) swings: over the window its smoothed curve crosses its mean at least 6 times with a
                peak-to-peak amplitude above 0.3 (a limit cycle instead of convergence; Mescheder et al. 2018).
Thresholds were set on recorded traces of the presets (tests/data/traces): quiet on the converging presets,
firing on the failing ones.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

WINDOW_FRACTION = 0.25
MIN_ROWS = 60
MIN_COLLAPSE_STEPS = 1000


@dataclass(frozen=True)
class Diagnosis:
    kind: str        # "diverged", "d_wins", "mode_collapse", "oscillation"
    title: str
    evidence: str
    suggestion: str
    after: str = ""  # the most recent setting change before it: "lr_d 0.0002 -> 0.001 at step 400" (or "")


def _window(values: np.ndarray) -> np.ndarray:
    n = len(values)
    size = max(MIN_ROWS, int(n * WINDOW_FRACTION))
    return values[-size:]


def _finite(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v[np.isfinite(v)]


def check_divergence(events) -> list:
    rollbacks = [e for e in events if e.kind == "rollback"]
    if not rollbacks:
        return []
    e = rollbacks[-1]
    return [Diagnosis("diverged", "Training diverged", f"{e.text}.",
                      "lower both learning rates (for example by 3x), add R1 (weight 1-10), or switch to the "
                      "non-saturating or hinge loss; then resume")]


def check_d_wins(metrics: dict, loss: str) -> list:
    steps = metrics.get("step", np.zeros(0))
    if len(steps) < MIN_ROWS:
        return []
    real, fake = _finite(_window(metrics["D(x)"])), _finite(_window(metrics["D(G(z))/after"]))
    if not len(real) or not len(fake):
        return []
    d_real, d_fake = float(real.mean()), float(fake.mean())
    if not (d_real > 0.85 and d_fake < 0.15):
        return []
    g = np.asarray(metrics["grad/G"], dtype=np.float64)
    recent = _finite(_window(g))
    earlier = _finite(g[: max(len(g) - len(recent), 1)])
    vanishing = len(recent) and len(earlier) and float(np.median(recent)) < 0.05 * float(earlier.max())
    if not (vanishing or loss == "minimax"):
        return []
    grad_text = (f"; |grad G| fell from {float(earlier.max()):.3g} to {float(np.median(recent)):.3g}"
                 if vanishing else "")
    fix = ("switch to the non-saturating loss (ns), whose G gradient does not vanish; " if loss == "minimax" else "")
    return [Diagnosis("d_wins", "D is winning: G's gradients vanish",
                      f"D(x) = {d_real:.2f} and D(G(z)) = {d_fake:.2f} over the last {len(real)} points{grad_text}.",
                      fix + "lower D's learning rate or D steps per G step, or add one-sided label smoothing (0.1)")]


def _collapsed(q: dict) -> bool:
    if q.get("kind") == "mixture":
        return q["modes"] < q["num_modes"] or q["reverse_kl"] > 0.3
    if q.get("kind") == "digits":
        if q.get("unrecognisable", 0) > 0.5:       # mostly no digits yet: nothing to call collapsed
            return False
        return q["classes"] < len(q["class_histogram"]) or q["kl_uniform"] > 0.3
    return False


def check_mode_collapse(quality: list) -> list:
    if len(quality) < 2 or quality[-1]["step"] < MIN_COLLAPSE_STEPS or not all(_collapsed(q) for q in quality[-2:]):
        return []
    q = quality[-1]
    if q.get("kind") == "mixture":
        k, modes, rkl = q["num_modes"], q["modes"], q["reverse_kl"]
        best = max(h["modes"] for h in quality)
        lost = f" (it had {best} earlier)" if best > modes else ""
        return [Diagnosis("mode_collapse", "Mode collapse",
                          f"{modes} of {k} modes captured{lost}; reverse KL {rkl:.2f} (0 = every mode equally).",
                          "raise the batch size, add R1 (0.1-1) or lower G's learning rate; EMA of G helps too")]
    hist = np.asarray(q["class_histogram"])
    missing = [str(i) for i, h in enumerate(hist) if h < 0.01]
    top = int(hist.argmax())
    miss = f"; missing: {', '.join(missing)}" if missing else ""
    return [Diagnosis("mode_collapse", "Mode collapse",
                      f"{q['classes']} of {len(hist)} classes appear{miss}; digit {top} takes {100 * hist[top]:.0f}% of "
                      f"the samples (KL to uniform {q['kl_uniform']:.2f}).",
                      "use the non-saturating loss, a larger batch, or a DCGAN instead of the MLP; "
                      "lower G's learning rate")]


def check_oscillation(metrics: dict) -> list:
    steps = metrics.get("step", np.zeros(0))
    if len(steps) < 2 * MIN_ROWS:
        return []
    fake = _finite(_window(metrics["D(G(z))/before"]))
    if len(fake) < MIN_ROWS:
        return []
    kernel = max(3, len(fake) // 30)
    smooth = np.convolve(fake, np.ones(kernel) / kernel, mode="valid")
    centred = smooth - smooth.mean()
    crossings = int(np.sum(np.signbit(centred[1:]) != np.signbit(centred[:-1])))
    amplitude = float(np.percentile(smooth, 95) - np.percentile(smooth, 5))
    if crossings >= 6 and amplitude > 0.3:
        return [Diagnosis("oscillation", "The players oscillate",
                          f"D(G(z)) swings between {np.percentile(smooth, 5):.2f} and {np.percentile(smooth, 95):.2f}, "
                          f"crossing its mean {crossings} times in the last {len(fake)} points.",
                          "lower both learning rates, add R1 (a gradient penalty damps the cycle), or use EMA of G")]
    return []


NOT_SETTINGS = ("rollback", "rewind", "resume", "limit")   # events that are not a visitor's setting change


def last_change(events) -> str:
    """The most recent setting change, as "lr_d 0.0002 -> 0.001 at step 400", or "" when none was made: what a
    diagnosis follows, so the visitor can tell whether their change caused it."""
    changes = [e for e in events if e.kind not in NOT_SETTINGS and " -> " in e.text]
    if not changes:
        return ""
    e = changes[-1]
    return f"{e.text} at step {e.step:,}"


def diagnose(metrics: dict, quality: list, events, loss: str) -> list:
    """Every diagnosis that fires, most severe first, each naming the setting change that preceded it."""
    found = (check_divergence(events) + check_d_wins(metrics, loss) + check_mode_collapse(quality)
             + check_oscillation(metrics))
    after = last_change(events)
    return [replace(d, after=after) for d in found]
