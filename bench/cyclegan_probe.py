"""CycleGAN sizes on this CPU: seconds per iteration, and (with --seconds) what a time budget buys.

    python -m bench.cyclegan_probe --speed [--sizes 8x2x16,16x3x16] [--iters 20]
    python -m bench.cyclegan_probe --seconds 120 --sizes 16x3x16 [--seed 0] [--every 30] [--knobs '{"lr_g": 5e-4}']

A size is WIDTHxBLOCKSxBATCH: the ResNet G's base width (D gets the same), its residual blocks (RunConfig.depth)
and the batch. --speed: GANRun.train_iteration("both") of the cyclegan-digits preset at each size, median seconds
per iteration over --iters after 3 warm-up iterations, with the engine's FLOP estimate (ganengine.cost); sizes are
interleaved, round after round (--rounds), so a change in the machine's load hits them all. --seconds: train each size
for that long (wall clock of training steps only) on --seed and measure ganengine.metrics.cycle's report on the 500
held-out digits every --every seconds (EMA copies when --knobs turns EMA on). One torch thread. One JSON line per
measurement. Results: bench/CYCLEGAN.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def build(size: str, seed: int = 0, knobs: dict | None = None):
    from ganengine.presets import get_preset
    from ganengine.run import GANRun
    width, blocks, batch = (int(v) for v in size.split("x"))
    config, k = get_preset("cyclegan-digits").build(device="cpu", width=width, depth=blocks, batch_size=batch,
                                                     seed=seed, **(knobs or {}))
    return GANRun(config=config, knobs=k), config, k


def speed(sizes: list, iters: int, rounds: int) -> None:
    from ganengine.cost import step_flops
    runs = {s: build(s) for s in sizes}
    times = {s: [] for s in sizes}
    for s in sizes:                                   # warm-up
        for _ in range(3):
            runs[s][0].train_iteration("both")
    for _ in range(rounds):
        for s in sizes:
            run = runs[s][0]
            for _ in range(iters):
                t = time.perf_counter()
                run.train_iteration("both")
                times[s].append(time.perf_counter() - t)
    for s in sizes:
        run, config, k = runs[s]
        gflop = step_flops(config, k, run.spec) / 1e9
        med = statistics.median(times[s])
        print(json.dumps({"size": s, "s_per_it": round(med, 4), "it_per_s": round(1 / med, 2), "gflop": round(gflop, 2),
                          "gflop_per_s": round(gflop / med, 1),
                          "g_params": sum(p.numel() for p in run.nets["G_AB"].parameters())}), flush=True)


def budget(size: str, seconds: float, every: float, seed: int, knobs: dict) -> None:
    from ganengine.metrics.cycle import cycle_report
    run, _, _ = build(size, seed, knobs)
    a, b, label = run.source.held_out()
    spent, next_eval = 0.0, every
    while spent < seconds:
        t = time.perf_counter()
        run.train_iteration("both")
        spent += time.perf_counter() - t
        if spent >= next_eval or spent >= seconds:
            run.gather(0.0)
            G_AB, G_BA = (run.sampler(n).eval() for n in ("G_AB", "G_BA"))
            r = cycle_report(G_AB, G_BA, a, b, label)
            G_AB.train(), G_BA.train()
            print(json.dumps({"size": size, "seed": seed, "seconds": round(spent, 1), "steps": run.step,
                              **{k: round(v, 4) for k, v in r.items() if isinstance(v, float)}}), flush=True)
            next_eval += every
    return run


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--speed", action="store_true")
    p.add_argument("--sizes", default="8x2x16,16x3x16")
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=0.0)
    p.add_argument("--every", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--knobs", default="{}")
    p.add_argument("--png", default="", help="write the final cycles view here (with --seconds)")
    args = p.parse_args()
    torch.set_num_threads(1)
    sizes = args.sizes.split(",")
    if args.speed:
        speed(sizes, args.iters, args.rounds)
    for s in sizes if args.seconds else []:
        run = budget(s, args.seconds, args.every, args.seed, json.loads(args.knobs))
        if args.png:
            from ganengine.render import png_bytes
            with open(args.png.replace(".png", f"_{s}.png"), "wb") as f:
                f.write(png_bytes(run.render_visuals()["cycles"]))


if __name__ == "__main__":
    main()
