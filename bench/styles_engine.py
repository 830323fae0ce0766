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
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("content", "content_real", "style_match", "style_match_real", "l1", "ssim", "change", "diversity",
        "diversity_real")


def recognisable(r: dict) -> bool:
    """The issue's bar: >= 85% of the held-out translations (mean over the styles) read as their source class, and
    the outputs visibly differ from the inputs: G changes its input by at least half as much as the true style does
    (change >= 0.5, mean over the non-plain styles) and the style classifier names the target style for at least
    half of the outputs (style_match >= 0.5; chance is 0.2)."""
    return r["content"] >= 0.85 and r["change"] >= 0.5 and r["style_match"] >= 0.5


def cli(*args) -> str:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "ganengine", *map(str, args)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--every", type=float, default=30.0)
    p.add_argument("--preset", default="digit-styles")
    p.add_argument("--set", default="", help="extra train flags for a probe, e.g. '--width 16'")
    p.add_argument("--png", default="", help="copy the last seed's final styles view here")
    args = p.parse_args()
    first = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in map(int, args.seeds.split(",")):
            out = Path(tmp) / f"st{seed}"
            done = 0.0
            while done < args.seconds - 1e-9:
                chunk = min(args.every, args.seconds - done)
                if done == 0:
                    cli("train", "--preset", args.preset, *args.set.split(), "--seconds", chunk, "--seed", seed,
                        "--threads", 1, "--quiet", "--out", out)
                else:
                    cli("train", "--resume", out / "checkpoint.pt", "--seconds", chunk, "--threads", 1, "--quiet",
                        "--out", out)
                done += chunk
                r = json.loads(cli("eval", out / "checkpoint.pt"))
                ok = recognisable(r)
                if ok and seed not in first:
                    first[seed] = (round(r["train_seconds"], 1), r["step"])
                per = {k: {m: round(v[m], 3) for m in ("content", "style") } for k, v in r["per_style"].items()}
                print(json.dumps({"seed": seed, "seconds": round(r["train_seconds"], 1), "steps": r["step"],
                                  **{k: round(r[k], 4) for k in KEYS}, "recognisable": ok, "per_style": per}),
                      flush=True)
            if args.png:
                shutil.copy(out / "samples.png", args.png)
    print(json.dumps({"first_recognisable": {str(s): first.get(s) for s in map(int, args.seeds.split(","))}}))


if __name__ == "__main__":
    main()
