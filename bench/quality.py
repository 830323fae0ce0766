"""Section 2: wall time until a quality bar, the playground's presets against the bare loops and the published tables.

Bars: ring8 has 8 modes and >= 90% high-quality samples; grid25 has >= 24 modes; MNIST shows all 10 classes and
FD (classifier features) <= FD_BAR. Training pauses every EVAL_EVERY seconds for an evaluation of 2,500 samples
(not counted in the time; the engine evaluates its EMA generator when the preset has one, as `eval` does).
A run that misses the bar within its cap is reported as "> cap".
"""
from __future__ import annotations

import torch

from bench import bare_loops
from bench.common import median, table
from ganengine.latents import sample_latents
from ganengine.metrics.digits import digit_metrics
from ganengine.metrics.evaluate import EVAL_SEED, evaluate_generator
from ganengine.metrics.mixtures import mixture_metrics
from ganengine.presets import get_preset
from ganengine.trainer import Trainer
from ganengine.data.points import grid25_centres, ring8_centres

FD_BAR = 100.0
BARS = {
    "ring8": ("8 modes and >= 90% high quality", lambda m: m["modes"] == 8 and m["high_quality"] >= 90),
    "grid25": (">= 24 modes", lambda m: m["modes"] >= 24),
    "mnist": (f"10 classes and FD <= {FD_BAR:g}", lambda m: m["classes"] == 10 and m["fd"] <= FD_BAR),
}


def engine_time_to(preset: str, data: str, seed: int, cap: float, every: float):
    config, knobs = get_preset(preset).build(seed=seed)
    ok = BARS[data][1]
    trainer = Trainer(config=config, knobs=knobs, max_seconds=every)
    last = {}
    while trainer.run.train_seconds < cap:
        trainer.set_limits(max_seconds=trainer.run.train_seconds + every)
        trainer.run_foreground()
        G, cfg, spec = trainer.generator_copy()
        last = evaluate_generator(G, cfg, spec)
        if ok(last):
            t = trainer.run.train_seconds
            trainer.close()
            return t, last
    trainer.close()
    return None, last


def bare_metrics(loop, data: str) -> dict:
    latent = loop.latent_dim
    z = sample_latents(2500, latent, EVAL_SEED)
    with torch.no_grad():
        x = torch.cat([loop.sample(c) for c in z.split(500)])
    if data == "mnist":
        return digit_metrics(x)
    centres, sigma = (ring8_centres(), 0.01) if data == "ring8" else (grid25_centres(), 0.05)
    return mixture_metrics(x.numpy(), centres, sigma)


def bare_time_to(factory, data: str, seed: int, cap: float, every: float):
    loop = factory(seed)
    ok, last = BARS[data][1], {}
    while loop.seconds < cap:
        loop.train(seconds=every)
        last = bare_metrics(loop, data)
        if ok(last):
            return loop.seconds, last
    return None, last


PUBLISHED = {"ring8": "PacGAN2: 7.9 modes, 95.6% (400 epochs of 100k points; time not reported)",
             "grid25": "PacGAN4: 24.8 modes, 93.6% (400 epochs of 100k points; time not reported)",
             "mnist": "no published time; Lucic et al. 2018 tune for 100k+ steps on a GPU"}


def run(quick: bool = False) -> tuple[str, dict]:
    from ganengine.device import configure_threads
    configure_threads(headless=True)
    seeds = [0] if quick else [0, 1, 2]
    jobs = [  # data, engine preset, bare factory, cap seconds, eval every
        ("ring8", "ring8", lambda s: bare_loops.Points(seed=s, sampler=bare_loops.ring8_sample),
         2 if quick else 45, 1 if quick else 3),
        ("grid25", "grid25", lambda s: bare_loops.Points(seed=s, sampler=bare_loops.grid25_sample),
         2 if quick else 60, 1 if quick else 5),
        ("mnist", "dcgan-mnist", lambda s: bare_loops.DCGAN28(seed=s), 2 if quick else 75, 1 if quick else 7.5),
    ]
    rows, data_out = [], {}
    for data, preset, factory, cap, every in jobs:
        for who, fn in (("playground preset", lambda s: engine_time_to(preset, data, s, cap, every)),
                        ("bare loop", lambda s: bare_time_to(factory, data, s, cap, every))):
            times, finals = [], []
            for seed in seeds:
                t, last = fn(seed)
                times.append(t)
                finals.append(last)
            reached = [t for t in times if t is not None]
            shown = (f"{median(reached):.1f} s" if len(reached) == len(times) else
                     f"> {cap:g} s ({len(reached)}/{len(times)} reached)")
            spread = f"{min(reached):.1f}-{max(reached):.1f} s" if reached else "-"
            data_out[f"{data}/{who}"] = {"times": times, "final": [{k: v for k, v in f.items()
                                                                    if not isinstance(v, list)} for f in finals]}
            rows.append([data, BARS[data][0], who, shown, spread, len(seeds)])
        rows.append([data, "published", PUBLISHED[data], "", "", ""])
    text = ("Median time to the bar over the seeds (training time only; evaluations excluded).\n\n"
            + table(["data", "bar", "who", "median time", "spread", "seeds"], rows))
    return text, data_out
