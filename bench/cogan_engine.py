"""A CoGAN preset through the engine (issue 13's "done when"): trained for 120 s, evaluated every 20 s.

    python -m bench.cogan_engine [--preset cogan-negatives] [--seeds 0,1,2] [--seconds 120] [--every 20]
                                 [--png bench/cogan_pairs.png]

Each seed trains `python -m ganengine train --preset P` in chunks of --every seconds of training, each chunk a
`train --resume` of the previous checkpoint (which continues exactly: tests/test_cogan_family.py), one seed after
another, and `python -m ganengine eval --n 1000` measures the checkpoint after each chunk (ganengine.metrics.coupled,
1,000 pairs from the same latents every time): class agreement of the pair (and with partners shuffled), pixel
agreement with the known transform of G1(z) (and shuffled), digit classes present. One thread,
OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per evaluation, each with "recognisable" (RECOGNISABLE below), the
first recognisable time per seed at the end. --png copies the last seed's final pairs view (the CLI's samples.png),
--keep DIR each seed's final checkpoint (to measure it again, e.g. with another reader).
Results: bench/COGAN.md.
"""
from __future__ import annotations

import argparse
import os
import shutil

from bench.common import run_seeds

KEYS = ("class_agreement", "class_agreement_unpaired", "pixel_agreement", "pixel_agreement_unpaired", "classes",
        "confidence", "class_agreement_self", "class_agreement_b", "class_agreement_b_unpaired")


def recognisable(r: dict) -> bool:
    """The issue's bar: at least 90% of pairs read as one digit, with all ten digits present (a G that draws one
    digit agrees with itself trivially)."""
    return r["class_agreement"] >= 0.9 and r["classes"] == 10


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--every", type=float, default=20.0)
    p.add_argument("--preset", default="cogan-negatives")
    p.add_argument("--png", default="", help="copy the last seed's final pairs view here")
    p.add_argument("--keep", default="", help="copy each seed's final checkpoint here as cogan<seed>.pt")
    p.add_argument("--set", action="append", default=[], help="FLAG=VALUE: a train flag (e.g. width=16) to try")
    args = p.parse_args()
    extra = [a for pair in args.set for a in (f"--{pair.split('=')[0].replace('_', '-')}", pair.split("=", 1)[1])]
    run_seeds(args.seeds, seconds=args.seconds, every=args.every, tag="cogan", first=["--preset", args.preset, *extra],
              eval_args=("--n", 1000), recognisable=recognisable,
              fields=lambda r, ok: {**{k: round(r[k], 4) for k in KEYS}, "recognisable": ok,
                                    "load": round(os.getloadavg()[0], 1)},
              after_seed=lambda seed, out: after(seed, out, args))


def after(seed: int, out, args) -> None:
    """--png: the seed's final pairs view (the CLI's samples.png); --keep: its final checkpoint."""
    if args.png:
        shutil.copy(out / "samples.png", args.png)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        shutil.copy(out / "checkpoint.pt", os.path.join(args.keep, f"cogan{seed}.pt"))


if __name__ == "__main__":
    main()
