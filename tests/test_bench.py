"""The benchmark scripts' smoke version runs, so they never rot (the measurements themselves live in bench/)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_runs_every_section():
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "throughput", "quality", "scale", "gpu",
                           "presets", "interactivity"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for title in ("Training throughput", "Time to quality", "Scale", "GPU", "Fast presets", "Interactivity"):
        assert title in proc.stdout
    assert "engine / bare" in proc.stdout and "p95" in proc.stdout
