"""cyclegan-digits through the engine (issue 12's "done when"): the preset trained for 300 s, evaluated every 30 s.

    python -m bench.cyclegan_engine [--seeds 0,1,2] [--seconds 300] [--every 30] [--png bench/cyclegan_cycles.png]
                                    [--knob lambda_identity=0]

Each seed trains `python -m ganengine train --preset cyclegan-digits` in chunks of --every seconds of training, each
chunk a `train --resume` of the previous checkpoint (which continues exactly: tests/test_cyclegan_family.py), one
seed after another, and `python -m ganengine eval` measures the checkpoint after each chunk on the 500 held-out
digits (ganengine.metrics.cycle): label preservation both ways, cycle L1, the exact-target L1 and PSNR, and how much
G changes its input against the true transform. One thread, OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per
evaluation, each with "recognisable" (RECOGNISABLE below), and the first recognisable time per seed at the end.
--png copies the last seed's final cycles view (the CLI's samples.png). Results: bench/CYCLEGAN.md.
"""
from __future__ import annotations

import argparse
import shutil

from bench.common import run_seeds

KEYS = ("label_ab", "label_ba", "cycle_aba", "cycle_bab", "l1_ab", "l1_ba", "psnr_ab", "psnr_ba", "l1_copy",
        "change_ab", "change_ba", "identity_ab", "identity_ba")


def recognisable(r: dict) -> bool:
    """The issue's bar, both ways: >= 85% of held-out translations read as their source class, and the outputs
    visibly differ from the inputs: G changes its input by at least half as much as the true transform does
    (change >= 0.5) and lands nearer the true target than the input itself is (l1 < l1_copy)."""
    return all(r[f"label_{d}"] >= 0.85 and r[f"change_{d}"] >= 0.5 and r[f"l1_{d}"] < r["l1_copy"]
               for d in ("ab", "ba"))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--every", type=float, default=30.0)
    p.add_argument("--preset", default="cyclegan-digits")
    p.add_argument("--png", default="", help="copy the last seed's final cycles view here")
    p.add_argument("--knob", action="append", default=[], help="NAME=VALUE: a family knob (train --knob)")
    args = p.parse_args()
    knobs = [arg for pair in args.knob for arg in ("--knob", pair)]
    run_seeds(args.seeds, seconds=args.seconds, every=args.every, tag="cg", first=["--preset", args.preset, *knobs],
              fields=lambda r, ok: {**{k: round(r[k], 4) for k in KEYS}, "recognisable": ok},
              recognisable=recognisable,
              after_seed=(lambda seed, out: shutil.copy(out / "samples.png", args.png)) if args.png else None)


if __name__ == "__main__":
    main()
