"""torchrun scaling on this machine: 1 process against 2 gloo processes (python -m bench.distributed [--steps N]).

Weak scaling, as data-parallel training is used: each process keeps the per-rank batch (64), so 2 processes train
a global batch of 128. Every rank gets one thread, so on this 2-core machine each rank has a core of its own:
efficiency = (images/s of 2 processes) / (2 x images/s of 1 process with 1 thread), the share of the ideal 2x
speed-up that survives the gradient all-reduce over gloo and a second interpreter. One process with 2 threads (the
CLI's default here) is reported beside them: it is the machine's best single-process rate, the bar 2 ranks must beat
to be worth running on one 2-core machine.
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


def rate(nproc: int, steps: int, args: list, threads: int = 1) -> float:
    """Median steps/s of `steps` iterations with nproc ranks of `threads` threads each."""
    with tempfile.TemporaryDirectory() as tmp:
        threads = str(threads)
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
    one = rate(1, a.steps, args, threads=1)
    one_two_threads = rate(1, a.steps, args, threads=2)
    two = rate(2, a.steps, args, threads=1)
    print(json.dumps({"model": a.model, "per_rank_batch": a.batch, "steps": a.steps,
                      "one_process": {"steps_per_sec": one, "images_per_sec": one * a.batch},
                      "one_process_2_threads": {"steps_per_sec": one_two_threads,
                                                "images_per_sec": one_two_threads * a.batch},
                      "two_processes": {"steps_per_sec": two, "images_per_sec": two * 2 * a.batch},
                      "efficiency": two * 2 / (2 * one),
                      "two_processes_vs_2_threads": two * 2 / one_two_threads, "load": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
