"""Section 4: steps/s and memory as batch size and image size grow, and memory over a long run.

Each configuration trains DCGAN (width 32) headless for a short window in a fresh Trainer; memory is this process's
RSS after it (torch's CPU allocator keeps freed blocks, so RSS only grows: configurations run smallest first).
The long run trains the ring8 preset and samples RSS and the history's row count as it goes: both must stay flat.
"""
from __future__ import annotations

import gc

from bench.common import rss_mb, table
from bench.throughput import engine_rate
from ganengine.config import Knobs, RunConfig
from ganengine.presets import get_preset
from ganengine.trainer import Trainer


def rate(config, knobs, seconds) -> float:
    r = engine_rate(config, knobs, seconds, warmup=5)
    gc.collect()  # the next configuration's RSS should not carry this one's freed tensors
    return r


def run(quick: bool = False) -> tuple[str, dict]:
    from ganengine.device import configure_threads
    configure_threads(headless=True)
    seconds = 0.5 if quick else 4.0
    rows, data = [], {"batch": [], "image": [], "long_run": []}
    for batch in ([32, 128] if quick else [32, 64, 128, 256, 512]):
        r = rate(RunConfig(data="mnist", model="dcgan", latent_dim=64, width=32), Knobs(batch_size=batch), seconds)
        data["batch"].append({"batch": batch, "steps_per_sec": r, "images_per_sec": r * batch, "rss_mb": rss_mb()})
        rows.append([f"DCGAN 28x28, batch {batch}", r, r * batch, rss_mb()])
    for size in ([28, 32] if quick else [28, 32, 64]):
        r = rate(RunConfig(data="mnist", model="dcgan", latent_dim=64, width=32, image_size=size), Knobs(batch_size=64),
                 seconds)
        data["image"].append({"size": size, "steps_per_sec": r, "rss_mb": rss_mb()})
        rows.append([f"DCGAN {size}x{size}, batch 64", r, r * 64, rss_mb()])
    text = table(["configuration", "steps/s", "images/s", "RSS after (MiB)"], rows)

    config, knobs = get_preset("ring8").build()
    trainer = Trainer(config=config, knobs=knobs)
    total, chunk = (600, 300) if quick else (60000, 10000)
    samples = []
    while trainer.run.step < total:
        trainer.set_limits(max_steps=trainer.run.step + chunk)
        trainer.run_foreground()
        snap = trainer.snapshot()
        samples.append([snap.step, rss_mb(), len(snap.metrics["step"]), len(snap.timeline_frames)])
    trainer.close()
    data["long_run"] = samples
    text += ("\n\nLong run (ring8 preset): memory and history size as the steps grow.\n\n"
             + table(["step", "RSS (MiB)", "history rows kept", "timeline frames kept"], samples))
    return text, data
