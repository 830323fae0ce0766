"""sr-digits through the engine (issue 13's "done when"): the preset trained for 120 s, evaluated every 20 s.

    python -m bench.srgan_engine [--seeds 0,1,2] [--seconds 120] [--every 20] [--knob adv_weight=0.01]

Each seed trains `python -m ganengine train --preset sr-digits` in chunks of --every seconds of training, each chunk
a `train --resume` of the previous checkpoint (which continues exactly: tests/test_srgan_family.py), and
`python -m ganengine eval` measures the checkpoint after each chunk on the 500 held-out digits
(ganengine.metrics.superres): the classifier's accuracy on G's outputs, PSNR, SSIM and edge strength, each against
bicubic upscaling of the same 7x7 inputs. One thread, OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per evaluation,
each with "recognisable" (RECOGNISABLE below), and the first recognisable time per seed at the end.
Results: bench/SRGAN.md.
"""
from __future__ import annotations

import argparse
import os

from bench.common import run_seeds

KEYS = ("accuracy", "psnr", "ssim", "sharpness", "bicubic_accuracy", "bicubic_psnr", "bicubic_ssim",
        "bicubic_sharpness")


def recognisable(r: dict) -> bool:
    """The issue's bar: >= 90% of the held-out outputs read as their digit, and clearly better than bicubic: at least
    3 points more accuracy and 1 dB more PSNR than bicubic upscaling of the same inputs."""
    return (r["accuracy"] >= 0.90 and r["accuracy"] >= r["bicubic_accuracy"] + 0.03
            and r["psnr"] >= r["bicubic_psnr"] + 1.0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--every", type=float, default=20.0)
    p.add_argument("--preset", default="sr-digits")
    p.add_argument("--knob", action="append", default=[], help="NAME=VALUE: a family knob (train --knob)")
    args = p.parse_args()
    knobs = [arg for pair in args.knob for arg in ("--knob", pair)]
    run_seeds(args.seeds, seconds=args.seconds, every=args.every, tag="sr", first=["--preset", args.preset, *knobs],
              recognisable=recognisable,
              fields=lambda r, ok: {**{k: round(r[k], 4) for k in KEYS}, "recognisable": ok,
                                    "load": round(os.getloadavg()[0], 1)})


if __name__ == "__main__":
    main()
