"""Helpers shared by the benchmark sections: machine facts, timing statistics, RSS, markdown tables."""
from __future__ import annotations

import os
import platform
import statistics
import sys
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
