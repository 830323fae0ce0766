"""edges2digits through the engine (issue 11's "done when"): the preset trained for 120 s, evaluated every 30 s.

    python -m bench.pix2pix_engine [--seeds 0,1,2] [--seconds 120] [--every 30]

Each seed trains `python -m ganengine train --preset edges2digits` in chunks of --every seconds of training, each
chunk a `train --resume` of the previous checkpoint (which continues exactly: tests/test_family_seam.py), and
`python -m ganengine eval` measures the checkpoint after each chunk on the 500 held-out pairs: L1, PSNR, SSIM and
the bundled classifier's accuracy on the outputs. One thread, OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per
evaluation. Results: bench/PIX2PIX.md.
"""
from __future__ import annotations

import argparse

from bench.common import run_seeds


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--every", type=float, default=30.0)
    args = p.parse_args()
    run_seeds(args.seeds, seconds=args.seconds, every=args.every, tag="p2p", first=["--preset", "edges2digits"],
              fields=lambda r, ok: {k: round(r[k], 4) for k in ("accuracy", "l1", "psnr", "ssim")})


if __name__ == "__main__":
    main()
