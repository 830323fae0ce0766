"""progan-digits against dcgan-mnist (issue 13's "done when"): each preset trained for 300 s, interleaved, per seed.

    python -m bench.progan_engine [--seeds 0,1,2] [--seconds 300] [--png bench/progan_digits.png]

For each seed, one seed after another: `python -m ganengine train --preset progan-digits --seconds S` and the same for
dcgan-mnist at the same time (interleaved as closely as can be: both see the same machine load), each on one thread
with OMP_WAIT_POLICY=PASSIVE; then
`python -m ganengine eval` of both checkpoints: FD in the bundled classifier's features of 2,500 samples against the
same real reference (ganengine.metrics.digits; ProGAN's 32 px samples centre-cropped to MNIST's 28, the padding
removed), classes present (>= 1% of samples), and for ProGAN SWD x 1e3 per Laplacian level. From ProGAN's
metrics.jsonl: the training time at which each level began to fade in and at which 32 px was stable, and the
iterations per second at each level (their median). The 1-minute load average (`uptime`) is printed before each run.
Prints one JSON line per run. --png copies the last seed's final ProGAN sample grid. Results: bench/PROGAN.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args) -> str:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "ganengine", *map(str, args)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def load() -> float:
    return os.getloadavg()[0]


def growth_times(metrics: Path) -> dict:
    """From a progan metrics.jsonl: when each level began (seconds of training), and the median it/s per level."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    began, rates = {}, {}
    for r in rows:
        key = f"{int(r['grow/resolution'])}px" + ("" if r["grow/alpha"] >= 1 else "_fade")
        began.setdefault(key, round(r["time"], 1))
        if r.get("steps_per_sec") is not None:
            rates.setdefault(int(r["grow/resolution"]), []).append(r["steps_per_sec"])
    return {"began_s": began, "it_per_s": {f"{k}px": round(statistics.median(v), 2) for k, v in sorted(rates.items())}}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--png", default="", help="copy the last seed's final ProGAN samples here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in map(int, args.seeds.split(",")):
            before = load()
            runs = {preset: subprocess.Popen(                      # both presets at once: the same load for both
                [sys.executable, "-m", "ganengine", "train", "--preset", preset, "--seconds", str(args.seconds),
                 "--seed", str(seed), "--threads", "1", "--quiet", "--out", str(Path(tmp) / f"{preset}{seed}")],
                cwd=ROOT, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"), stdout=subprocess.DEVNULL)
                for preset in ("progan-digits", "dcgan-mnist")}
            if any(proc.wait() for proc in runs.values()):
                raise SystemExit(f"a training run of seed {seed} failed")
            for preset in runs:
                out = Path(tmp) / f"{preset}{seed}"
                r = json.loads(cli("eval", out / "checkpoint.pt"))
                row = {"preset": preset, "seed": seed, "load_before": round(before, 1), "load_after": round(load(), 1),
                       "seconds": round(r["train_seconds"], 1), "steps": r["step"], "fd": round(r["fd"], 1),
                       "fd_floor": round(r["fd_floor"], 2), "classes": r["classes"],
                       "class_histogram": r["class_histogram"], "confidence": round(r["confidence"], 3)}
                if preset == "progan-digits":
                    row.update(resolution=r["resolution"], alpha=r["alpha"], swd_32=round(r["swd_32"], 1),
                               swd_16=round(r["swd_16"], 1), swd_floor=round(r["swd_floor"], 1),
                               **growth_times(out / "metrics.jsonl"))
                    if args.png:
                        shutil.copy(out / "samples.png", args.png)
                        shutil.copy(out / "checkpoint.pt", Path(tmp) / "last_progan.pt")
                print(json.dumps(row), flush=True)
        if args.png and (Path(tmp) / "last_progan.pt").exists():
            shutil.copy(Path(tmp) / "last_progan.pt", Path(args.png).with_suffix(".pt"))


if __name__ == "__main__":
    main()
