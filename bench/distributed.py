"""torchrun scaling on this machine: 1 process against 2 gloo processes (python -m bench.distributed [--steps N]).

Weak scaling, as data-parallel training is used: each process keeps the per-rank batch (64), so 2 processes train
a global batch of 128. Efficiency = (images/s with 2 processes) / (2 x images/s with 1 process); on a machine whose
processes each get their own cores this is the share of the ideal speed-up. Here the 2 cores are shared: the single
process uses both cores (2 threads), the 2 processes one thread each, so efficiency is what splitting the same cores
between ranks costs or gains (gradient all-reduce over gloo, a second Python interpreter).
Rates come from the runs' own metrics.jsonl (steps_per_sec of the rows after the first 20 %, the median).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rate(nproc: int, steps: int, args: list) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        threads = str(max(1, 2 // nproc))
        train = ["-m", "ganengine", "train", *args, "--steps", str(steps), "--threads", threads, "--quiet",
                 "--out", tmp]
        cmd = [sys.executable, *train] if nproc == 1 else \
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc), *train]
        env = {**os.environ, "OMP_NUM_THREADS": threads}
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=1200)
        rows = [json.loads(line) for line in Path(tmp, "metrics.jsonl").read_text().splitlines()]
        rates = [r["steps_per_sec"] for r in rows[len(rows) // 5:] if r.get("steps_per_sec")]
        return statistics.median(rates)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.distributed")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--model", default="dcgan")
    p.add_argument("--batch", type=int, default=64)
    a = p.parse_args(argv)
    args = ["--data", "mnist", "--model", a.model, "--batch-size", str(a.batch), "--loss", "ns"]
    one = rate(1, a.steps, args)
    two = rate(2, a.steps, args)
    eff = (two * 2 * a.batch) / (2 * one * a.batch)
    print(json.dumps({"model": a.model, "per_rank_batch": a.batch, "steps": a.steps,
                      "one_process": {"steps_per_sec": one, "images_per_sec": one * a.batch},
                      "two_processes": {"steps_per_sec": two, "images_per_sec": two * 2 * a.batch},
                      "efficiency": eff, "load": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
