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
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args) -> str:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "ganengine", *map(str, args)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--every", type=float, default=30.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in map(int, args.seeds.split(",")):
            out = Path(tmp) / f"p2p{seed}"
            done = 0.0
            while done < args.seconds - 1e-9:
                chunk = min(args.every, args.seconds - done)
                if done == 0:
                    cli("train", "--preset", "edges2digits", "--seconds", chunk, "--seed", seed, "--threads", 1,
                        "--quiet", "--out", out)
                else:
                    cli("train", "--resume", out / "checkpoint.pt", "--seconds", chunk, "--threads", 1, "--quiet",
                        "--out", out)
                done += chunk
                r = json.loads(cli("eval", out / "checkpoint.pt"))
                print(json.dumps({"seed": seed, "seconds": round(r["train_seconds"], 1), "steps": r["step"],
                                  **{k: round(r[k], 4) for k in ("accuracy", "l1", "psnr", "ssim")}}), flush=True)


if __name__ == "__main__":
    main()
