"""What a timeline frame costs the training thread (issue 11: "rendering for the page happens off the training
thread where it costs more than a few ms"): drawing on the training thread (GANRun.render_visuals, as before)
against taking the drawing job there and drawing it elsewhere (GANRun.visuals_job: the restore point and frozen
copies), interleaved, for each in-app preset at its own size.

    python -m bench.render_cost [--repeats 15]

Prints, per preset, the median milliseconds the training thread spends per frame both ways and the drawing itself.
One torch thread, as the app's trainers on a 2-core machine measure their ratios.
"""
from __future__ import annotations

import statistics
import sys
import time

import torch

from bench.common import ROOT  # noqa: F401  (puts the repository on sys.path)
from ganengine.presets import PRESETS
from ganengine.run import GANRun


def main() -> None:
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 15
    torch.set_num_threads(1)
    print(f"{'preset':14s} {'sync ms':>8s} {'job ms':>7s} {'draw ms':>8s}  (medians of {repeats}, interleaved)")
    for name, preset in PRESETS.items():
        if not preset.in_app:
            continue
        config, knobs = preset.build(device="cpu")
        run = GANRun(config=config, knobs=knobs)
        for _ in range(3):
            run.train_iteration()
        sync, take, draw = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run.render_visuals()
            t1 = time.perf_counter()
            job = run.visuals_job()
            t2 = time.perf_counter()
            job()
            t3 = time.perf_counter()
            sync.append(t1 - t0), take.append(t2 - t1), draw.append(t3 - t2)
        med = [1e3 * statistics.median(v) for v in (sync, take, draw)]
        print(f"{name:14s} {med[0]:8.1f} {med[1]:7.1f} {med[2]:8.1f}")


if __name__ == "__main__":
    main()
