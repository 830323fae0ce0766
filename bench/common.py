"""Helpers shared by the benchmark sections: machine facts, timing statistics, RSS, markdown tables, and the
chunk / resume / eval loop of the engine benchmarks (bench/*_engine.py)."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine() -> dict:
    import torch
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": cpu, "cores": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "torch": torch.__version__, "gpu": gpu,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "libgomp default")}


def rss_mb() -> float:
    """This process's resident memory in MiB (Linux)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def percentile(values, q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: list, rows: list) -> str:
    def cell(v):
        if isinstance(v, float):
            return "-" if v != v else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")
        return str(v)
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


# ---- the chunk / resume / eval loop of the bench/*_engine.py scripts ------------------------------------------------
def engine(*args) -> str:
    """`python -m ganengine ARGS` in a subprocess (OMP_WAIT_POLICY=PASSIVE); its stdout."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "ganengine", *map(str, args)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def train_in_chunks(seed: int, out: Path, seconds: float, every: float, first: list, eval_args=()):
    """Train one seed for `seconds` of training in chunks of `every` seconds on one thread: the first chunk is
    `train FIRST --seed SEED`, each next one a `train --resume` of the previous checkpoint (which continues exactly:
    the families' exact-replay tests). Yields `eval CKPT EVAL_ARGS`'s JSON after each chunk."""
    done = 0.0
    while done < seconds - 1e-9:
        chunk = min(every, seconds - done)
        if done == 0:
            engine("train", *first, "--seconds", chunk, "--seed", seed, "--threads", 1, "--quiet", "--out", out)
        else:
            engine("train", "--resume", out / "checkpoint.pt", "--seconds", chunk, "--threads", 1, "--quiet",
                   "--out", out)
        done += chunk
        yield json.loads(engine("eval", out / "checkpoint.pt", *eval_args))


def run_seeds(seeds: str, *, seconds: float, every: float, tag: str, first: list, fields, recognisable=None,
              eval_args=(), after_seed=None) -> None:
    """The engine benchmarks' loop: seeds ("0,1,2") one after another, each trained in chunks (train_in_chunks) in a
    temporary folder TAG<seed>; after each chunk one JSON line {"seed", "seconds", "steps", **fields(r, ok)}, where
    ok = recognisable(r) (None without a bar). after_seed(seed, folder) runs after each seed's last chunk (copy
    its samples.png or checkpoint). With a bar, a last line gives each seed's first recognisable (seconds, step)."""
    seed_list = list(map(int, seeds.split(",")))
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seed_list:
            out = Path(tmp) / f"{tag}{seed}"
            for r in train_in_chunks(seed, out, seconds, every, first, eval_args):
                ok = recognisable(r) if recognisable is not None else None
                if ok and seed not in found:
                    found[seed] = (round(r["train_seconds"], 1), r["step"])
                print(json.dumps({"seed": seed, "seconds": round(r["train_seconds"], 1), "steps": r["step"],
                                  **fields(r, ok)}), flush=True)
            if after_seed is not None:
                after_seed(seed, out)
    if recognisable is not None:
        print(json.dumps({"first_recognisable": {str(s): found.get(s) for s in seed_list}}))
