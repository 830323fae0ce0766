"""Issue 16: the small-model step before and after LeanAdam (ganengine.lean_adam) and the hand-written point-MLP
step (ganengine.fast_mlp_step), interleaved in one process.

"before" builds every run's optimisers as the engine did until issue 16 (torch.optim.Adam, foreach=True, stepped
through Optimizer.step), autograd step; "after" = LeanAdam, autograd step (GAN_FAST_STEP=0: the engine of main at
12:00 on 2026-11-30); "fast" = LeanAdam and the hand-written step where it applies (the engine as it is). Nothing else
differs, so the ratio of interleaved runs is the change's own effect on a machine whose speed drifts. The ratio
column is the last variant named over the first.

  rates:   the step rate (it/s) of bench/throughput.py's engine cases and of the ring8 / grid25 presets, by
           bench.throughput.engine_rate (Trainer on the main thread), `--pairs` before/after pairs of `--seconds`.
  quality: each mixture preset for its own budget on untuned seeds (the presets were tuned on seeds 0-4: bench/
           TUNING.md, bench/PRESETS.md), before and after per seed: the final 2,500-sample metrics against the
           preset's promise (bench/presets.py TARGETS), and the first evaluation point (every `--every` s of
           training; evaluations not counted) where the promise already held.

  python -m bench.small_step rates --threads 1 --pairs 4 --seconds 3
  python -m bench.small_step rates --threads 1 --pairs 3 --seconds 3 --variants after fast --cases points
  python -m bench.small_step quality --data ring8 --seeds 10 --variants fast
  python -m bench.small_step quality --data ring8 --seeds 5 6 7 8 9
  python -m bench.small_step quality --data ring8 --seeds 5 --variants after   (the engine as it is, one seed)
  python -m bench.small_step quality --data ring8 --seeds 0 --variants after --set "lr_decay_steps=5000"  (a trial)
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from bench.common import machine, median, table

VARIANTS = ("before", "after", "fast")


def _before_adam(params, *, lr, betas, device):
    return torch.optim.Adam(list(params), lr=lr, betas=betas, foreach=True if device.type == "cpu" else None)


def use(variant: str) -> None:
    """Switch the engine's optimiser factory (ganengine.run.make_adam) and its step (GAN_FAST_STEP, read when a run
    is built) to a variant's."""
    import ganengine.run as run_module
    from ganengine.lean_adam import make_adam
    run_module.make_adam = _before_adam if variant == "before" else make_adam
    os.environ["GAN_FAST_STEP"] = "auto" if variant == "fast" else "0"


def rates(threads: int, pairs: int, seconds: float, variants=("before", "after"), points_only=False) -> tuple[str, dict]:
    """points_only: only the 2-D cases (the ones the hand-written step applies to)."""
    from bench.throughput import CASES, engine_rate
    from ganengine.presets import preset_for_data
    cases = {name: (config, knobs) for name, (_, config, knobs) in CASES.items()
             if not points_only or config.data in ("ring8", "grid25")}
    for data in ("ring8", "grid25"):
        cases[f"{data} preset (R1, EMA, lr decay)"] = preset_for_data(data).build(seed=5)
    rows, out, first, last = [], {}, variants[0], variants[-1]
    for name, (config, knobs) in cases.items():
        got = {v: [] for v in variants}
        for _ in range(pairs):
            for v in variants:
                use(v)
                got[v].append(engine_rate(config, knobs, seconds))
        ratios = [a / b for a, b in zip(got[last], got[first])]
        out[name] = {**got, "ratio": ratios}
        rows.append([name, *(f"{median(got[v]):.1f}" for v in variants), f"{median(ratios):.2f}",
                     f"{min(ratios):.2f}-{max(ratios):.2f}"])
    use("fast")
    text = table(["model", *(f"{v} (it/s)" for v in variants), f"{last} / {first} (median)", "range"], rows)
    return text, out


def parse_settings(text: str) -> dict:
    """'lr_decay_steps=7000 ema_decay=0.999' -> {'lr_decay_steps': 7000, 'ema_decay': 0.999}; '' or 'base' -> {}."""
    out = {}
    for item in text.split():
        if item != "base":
            k, v = item.split("=", 1)
            out[k] = int(v) if v.lstrip("-").isdigit() else float(v)
    return out


def quality(data: str, seeds: list, every: float, variants=VARIANTS, overrides=None) -> tuple[str, dict]:
    """overrides: settings on top of the preset (a tuning trial, --set)."""
    from bench.presets import TARGETS
    from ganengine.metrics.evaluate import evaluate_generator
    from ganengine.presets import preset_for_data
    from ganengine.trainer import Trainer
    preset = preset_for_data(data)
    budget, ok = preset.seconds, TARGETS[data]
    rows, out = [], []
    for seed in seeds:
        for v in variants:
            use(v)
            config, knobs = preset.build(seed=seed, **(overrides or {}))
            trainer = Trainer(config=config, knobs=knobs)
            first, m = None, {}
            while trainer.run.train_seconds < budget - 1e-6:
                trainer.set_limits(max_seconds=min(budget, trainer.run.train_seconds + every))
                trainer.run_foreground()
                G, cfg, spec = trainer.generator_copy()
                m = evaluate_generator(G, cfg, spec)
                if first is None and ok(m):
                    first = trainer.run.train_seconds
            steps = trainer.run.step
            trainer.close()
            out.append({"seed": seed, "variant": v, "steps": steps, "first_ok_s": first,
                        **{k: m[k] for k in ("modes", "num_modes", "high_quality", "reverse_kl")}})
            rows.append([seed, v, steps, f"{m['modes']}/{m['num_modes']}", f"{m['high_quality']:.1f}%",
                         f"{m['reverse_kl']:.4f}", "yes" if ok(m) else "NO",
                         "never" if first is None else f"{first:.0f} s"])
            print(rows[-1], flush=True)
    use("fast")
    text = table(["seed", "variant", "steps", "modes", "high quality", "reverse KL", f"promise at {budget:g} s",
                  f"promise first held (every {every:g} s)"], rows)
    return text, {"data": data, "budget": budget, "overrides": overrides or {}, "runs": out}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.small_step")
    p.add_argument("what", choices=("rates", "quality"))
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: every core, as the CLI)")
    p.add_argument("--pairs", type=int, default=4)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--data", default="ring8", choices=("ring8", "grid25"))
    p.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7, 8, 9])
    p.add_argument("--every", type=float, default=5.0)
    p.add_argument("--variants", nargs="+", default=["before", "after"], choices=VARIANTS,
                   help="which variants to run, interleaved (before: foreach Adam; after: LeanAdam; fast: LeanAdam and "
                   "the hand-written point-MLP step)")
    p.add_argument("--cases", default="all", choices=("all", "points"), help="rates: every case, or the 2-D ones")
    p.add_argument("--set", default="", help="quality: settings on top of the preset, e.g. 'lr_decay_steps=5000 "
                   "ema_decay=0.999' (a tuning trial; default: the preset as it is)")
    p.add_argument("--json", default="")
    a = p.parse_args(argv)
    from ganengine.device import configure_threads
    threads = configure_threads(a.threads or None, headless=True)
    t0 = time.perf_counter()
    if a.what == "rates":
        text, data = rates(threads, a.pairs, a.seconds, a.variants, a.cases == "points")
    else:
        text, data = quality(a.data, a.seeds, a.every, a.variants, parse_settings(a.set))
        threads = torch.get_num_threads()  # the Trainer's own choice (ganengine.device: 1 for a small step)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    head = (f"{machine()['date']}, {threads} torch thread(s), load average {' '.join(load)} at the end, "
            f"{time.perf_counter() - t0:.0f} s")
    print(head + "\n\n" + text)
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"head": head, "what": a.what, "threads": threads, "data": data}) + "\n")


if __name__ == "__main__":
    main()
