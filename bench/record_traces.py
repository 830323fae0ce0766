"""Record metric traces of the presets, for the diagnostics tests (tests/test_diagnostics.py).

    python -m bench.record_traces            # about 6 minutes on a 2-core CPU

Each preset trains for its budget as in the app: quality measured every QUALITY_EVERY seconds of training on a
frozen copy of G. The trace keeps the metric columns the diagnostics read (downsampled to at most MAX_ROWS rows),
the quality history (with class histograms), the events, and the loss. "diverged" is a ring8 run whose weights
are set to NaN halfway, so that the trainer's real rollback path writes the event. The tests state which diagnosis
each trace must (and must not) trigger; the files hold only what happened.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganengine.presets import get_preset  # noqa: E402
from ganengine.trainer import Trainer  # noqa: E402

OUT = ROOT / "tests" / "data" / "traces"
COLUMNS = ("step", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D", "loss/D", "loss/G")
QUALITY_EVERY = 5.0
MAX_ROWS = 800
PRESETS = ["ring8", "dcgan-mnist", "cgan-mnist", "mode-collapse", "d-wins"]


def record(preset: str, *, seed: int = 0, poison_at: float | None = None) -> dict:
    config, knobs = get_preset(preset).build(seed=seed)
    seconds = get_preset(preset).seconds
    trainer = Trainer(config=config, knobs=knobs)
    while trainer.run.train_seconds < seconds:
        trainer.set_limits(max_seconds=trainer.run.train_seconds + QUALITY_EVERY)
        if poison_at is not None and trainer.run.train_seconds >= poison_at:
            with trainer.with_run() as run:
                next(run.G.parameters()).data.fill_(float("nan"))
            poison_at = None
        trainer.run_foreground()
        if trainer.snapshot().status == "paused":  # a rollback paused it
            break
        trainer.measure_quality()
    snap = trainer.snapshot()
    trainer.close()
    m = snap.metrics
    idx = np.unique(np.linspace(0, len(m["step"]) - 1, min(MAX_ROWS, len(m["step"]))).astype(int))
    return {"preset": preset, "seed": seed, "loss": snap.knobs.loss, "steps": snap.step,
            "metrics": {c: [None if not np.isfinite(v) else round(float(v), 5) for v in m[c][idx]] for c in COLUMNS},
            "quality": [{k: v for k, v in q.items()} for q in snap.quality],
            "events": [{"step": e.step, "kind": e.kind, "text": e.text} for e in snap.events]}


def main() -> None:
    from ganengine.device import configure_threads
    configure_threads(headless=True)
    OUT.mkdir(parents=True, exist_ok=True)
    jobs = [(p, {}) for p in PRESETS] + [("ring8", {"poison_at": 10.0})]
    for preset, kw in jobs:
        name = "diverged" if kw else preset
        trace = record(preset, **kw)
        (OUT / f"{name}.json").write_text(json.dumps(trace, separators=(",", ":")))
        last = trace["quality"][-1] if trace["quality"] else {}
        print(f"{name}: {trace['steps']} steps, last quality "
              f"{ {k: v for k, v in last.items() if k in ('modes', 'high_quality', 'classes', 'fd', 'kl_uniform')} }",
              flush=True)


if __name__ == "__main__":
    main()
