"""digit-styles through the engine (issue 12's "done when"): the preset trained for 300 s, evaluated every 30 s.

    python -m bench.styles_engine [--seeds 0,1,2] [--seconds 300] [--every 30] [--png bench/styles_view.png]

Each seed trains `python -m ganengine train --preset digit-styles` in chunks of --every seconds of training, each
chunk a `train --resume` of the previous checkpoint (which continues exactly: tests/test_styles_family.py), one seed
after another, and `python -m ganengine eval` measures the checkpoint after each chunk on the 500 held-out digits
in every style (ganengine.metrics.styles): content kept, style match, L1 / SSIM to the exact renderings, change
against the true style and diversity across styles. One thread, OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per
evaluation, each with "recognisable" (RECOGNISABLE below), and the first recognisable time per seed at the end.
--png copies the last seed's final styles view (the CLI's samples.png). Results: bench/STYLES.md.
"""
from __future__ import annotations

import argparse
import shutil

from bench.common import run_seeds

KEYS = ("content", "content_real", "style_match", "style_match_real", "l1", "ssim", "change", "diversity",
        "diversity_real")


def recognisable(r: dict) -> bool:
    """The issue's bar: >= 85% of the held-out translations (mean over the styles) read as their source class, and
    the outputs visibly differ from the inputs: G changes its input by at least half as much as the true style does
    (change >= 0.5, mean over the non-plain styles) and the style classifier names the target style for at least
    half of the outputs (style_match >= 0.5; chance is 0.2)."""
    return r["content"] >= 0.85 and r["change"] >= 0.5 and r["style_match"] >= 0.5


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--every", type=float, default=30.0)
    p.add_argument("--preset", default="digit-styles")
    p.add_argument("--set", default="", help="extra train flags for a probe, e.g. '--width 16'")
    p.add_argument("--png", default="", help="copy the last seed's final styles view here")
    args = p.parse_args()

    def fields(r, ok):
        per = {k: {m: round(v[m], 3) for m in ("content", "style")} for k, v in r["per_style"].items()}
        return {**{k: round(r[k], 4) for k in KEYS}, "recognisable": ok, "per_style": per}
    run_seeds(args.seeds, seconds=args.seconds, every=args.every, tag="st",
              first=["--preset", args.preset, *args.set.split()], fields=fields, recognisable=recognisable,
              after_seed=(lambda seed, out: shutil.copy(out / "samples.png", args.png)) if args.png else None)


if __name__ == "__main__":
    main()
