"""A CoGAN preset through the engine (issue 13's "done when"): trained for 120 s, evaluated every 20 s.

    python -m bench.cogan_engine [--preset cogan-negatives] [--seeds 0,1,2] [--seconds 120] [--every 20]
                                 [--png bench/cogan_pairs.png]

Each seed trains `python -m ganengine train --preset P` in chunks of --every seconds of training, each chunk a
`train --resume` of the previous checkpoint (which continues exactly: tests/test_cogan_family.py), one seed after
another, and `python -m ganengine eval --n 1000` measures the checkpoint after each chunk (ganengine.metrics.coupled,
1,000 pairs from the same latents every time): class agreement of the pair (and with partners shuffled), pixel
agreement with the known transform of G1(z) (and shuffled), digit classes present. One thread,
OMP_WAIT_POLICY=PASSIVE. Prints one JSON line per evaluation, each with "recognisable" (RECOGNISABLE below), the
first recognisable time per seed at the end. --png copies the last seed's final pairs view (the CLI's samples.png).
Results: bench/COGAN.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("class_agreement", "class_agreement_unpaired", "pixel_agreement", "pixel_agreement_unpaired", "classes",
        "confidence")


def recognisable(r: dict) -> bool:
    """The issue's bar: at least 90% of pairs read as one digit, with all ten digits present (a G that draws one
    digit agrees with itself trivially)."""
    return r["class_agreement"] >= 0.9 and r["classes"] == 10


def cli(*args) -> str:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "ganengine", *map(str, args)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--every", type=float, default=20.0)
    p.add_argument("--preset", default="cogan-negatives")
    p.add_argument("--png", default="", help="copy the last seed's final pairs view here")
    p.add_argument("--set", action="append", default=[], help="FLAG=VALUE: a train flag (e.g. width=16) to try")
    args = p.parse_args()
    extra = [a for pair in args.set for a in (f"--{pair.split('=')[0].replace('_', '-')}", pair.split("=", 1)[1])]
    first = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in map(int, args.seeds.split(",")):
            out = Path(tmp) / f"cogan{seed}"
            done = 0.0
            while done < args.seconds - 1e-9:
                chunk = min(args.every, args.seconds - done)
                if done == 0:
                    cli("train", "--preset", args.preset, *extra, "--seconds", chunk, "--seed", seed, "--threads", 1,
                        "--quiet", "--out", out)
                else:
                    cli("train", "--resume", out / "checkpoint.pt", "--seconds", chunk, "--threads", 1, "--quiet",
                        "--out", out)
                done += chunk
                r = json.loads(cli("eval", out / "checkpoint.pt", "--n", 1000))
                ok = recognisable(r)
                if ok and seed not in first:
                    first[seed] = (round(r["train_seconds"], 1), r["step"])
                print(json.dumps({"seed": seed, "seconds": round(r["train_seconds"], 1), "steps": r["step"],
                                  **{k: round(r[k], 4) for k in KEYS}, "recognisable": ok,
                                  "load": round(os.getloadavg()[0], 1)}), flush=True)
            if args.png:
                shutil.copy(out / "samples.png", args.png)
    print(json.dumps({"first_recognisable": {str(s): first.get(s) for s in map(int, args.seeds.split(","))}}))


if __name__ == "__main__":
    main()
