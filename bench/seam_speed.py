"""Indirection cost of the family seam (issue 11): the 2-D ring8 step's rate before and after, interleaved.

    python -m bench.seam_speed /path/to/old/tree [--pairs 4] [--seconds 3]

Each measurement is a fresh process on one thread that trains the ring8 preset (MLP 2x64, batch 256, R1, EMA) for
`seconds` through the Trainer, headless, after 50 warm-up steps; old and new alternate so drift hits both alike.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

SNIPPET = """
import sys, torch; sys.path.insert(0, {root!r}); torch.set_num_threads(1)
from ganengine.presets import get_preset
from ganengine.trainer import Trainer
config, knobs = get_preset('ring8').build(seed=0, device='cpu')
t = Trainer(config=config, knobs=knobs, max_steps=50, threads=1); t.run_foreground()
s0, t0 = t.run.step, t.run.train_seconds
t.set_limits(max_steps=0, max_seconds=t0 + {seconds}); t.run_foreground()
print((t.run.step - s0) / (t.run.train_seconds - t0)); t.close()
"""


def rate(root: str, seconds: float) -> float:
    out = subprocess.run([sys.executable, "-c", SNIPPET.format(root=root, seconds=seconds)], capture_output=True,
                         text=True, check=True, cwd=root)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    old = sys.argv[1]
    pairs = int(sys.argv[sys.argv.index("--pairs") + 1]) if "--pairs" in sys.argv else 4
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 3.0
    new = str(Path(__file__).resolve().parents[1])
    before, after = [], []
    for _ in range(pairs):
        before.append(rate(old, seconds))
        after.append(rate(new, seconds))
    print(f"ring8 steps/s, median of {pairs}: before {statistics.median(before):.1f} "
          f"({', '.join(f'{r:.0f}' for r in before)}), after {statistics.median(after):.1f} "
          f"({', '.join(f'{r:.0f}' for r in after)}), ratio {statistics.median(after) / statistics.median(before):.3f}")


if __name__ == "__main__":
    main()
