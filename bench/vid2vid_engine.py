"""moving-digits through the engine (issue 14's "done when"): the preset trained for 300 s, evaluated every 60 s.

    python -m bench.vid2vid_engine [--seeds 0,1,2] [--seconds 300] [--every 60] [--clips 200] [--preset moving-digits]

Each seed trains `python -m ganengine train --preset P` in chunks of --every seconds of training, each chunk a
`train --resume` of the previous checkpoint (which continues exactly: tests/test_vid2vid_family.py), and
`python -m ganengine eval` measures the checkpoint after each chunk on the first --clips held-out clips (12 frames;
ganengine.metrics.video): per-frame L1 / PSNR, the warp error with the known motion, the classifier's per-frame
accuracy and confidence, the share of clips whose digit keeps one class, and how far the generated digit travels
against the real one. One thread, OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per evaluation, each with
"recognisable" (below), and the first recognisable time per seed at the end. Results: bench/VID2VID.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from bench.common import run_seeds

KEYS = ("l1", "psnr", "warp", "accuracy", "confidence", "kept", "kept_true", "com_error", "travel", "travel_real")


def recognisable(r: dict) -> bool:
    """The issue's bar: the classifier reads the frames with confidence (mean max-probability >= 0.8 and per-frame
    accuracy >= 80%), the digit keeps one class over the whole clip in >= 70% of clips, and the clip moves: the
    generated digit travels >= 80% of the real one's distance, its centre of mass within 1.5 px of the real one's."""
    return (r["confidence"] >= 0.8 and r["accuracy"] >= 0.8 and r["kept"] >= 0.7
            and r["travel"] >= 0.8 * r["travel_real"] and r["com_error"] <= 1.5)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--every", type=float, default=60.0)
    p.add_argument("--clips", type=int, default=200, help="held-out clips each evaluation measures (of 500)")
    p.add_argument("--preset", default="moving-digits")
    p.add_argument("--set", default="", help="extra train flags for a probe, e.g. '--width 16'")
    p.add_argument("--keep", default="", help="copy the last seed's final checkpoint and strip here (a folder)")
    args = p.parse_args()

    def keep(seed, out):
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        for name in ("checkpoint.pt", "samples.png"):
            shutil.copy(out / name, Path(args.keep) / f"{args.preset}_seed{seed}_{name}")
    run_seeds(args.seeds, seconds=args.seconds, every=args.every, tag="v",
              first=["--preset", args.preset, *args.set.split()], eval_args=("--n", args.clips),
              recognisable=recognisable, after_seed=keep if args.keep else None,
              fields=lambda r, ok: {"load": round(os.getloadavg()[0], 1), **{k: round(r[k], 4) for k in KEYS},
                                    "recognisable": ok})


if __name__ == "__main__":
    main()
