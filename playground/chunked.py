"""Chunked training for a Hugging Face ZeroGPU Space: a generator event trains a few hundred steps per GPU call.

On ZeroGPU the GPU exists only inside functions decorated with ``@spaces.GPU(duration=...)``, each call run in a
worker process for a bounded time, so the app's long-lived background trainer threads cannot hold it. Here, instead,
the page's Start button is a generator event: each turn calls ``train_chunk`` (decorated; it builds the run on the
worker's device, loads the CPU training state passed in, trains ``steps`` iterations, draws the views, and hands the
training state back on the CPU), then yields the new views and numbers to the page. Nothing lives on the GPU between
calls; the state (weights, EMA, Adam moments, RNG streams, counters) round-trips, so chunks chain into exactly the run
one process would have trained (tests/test_chunked.py).

Settings: GAN_CHUNKED=1 adds the chunked tab (set it on a ZeroGPU Space; `SPACES_ZERO_GPU`, which ZeroGPU sets, turns
it on too); GAN_CHUNK_STEPS (200) steps per call; GAN_CHUNK_SECONDS (60) the duration asked of @spaces.GPU;
GAN_CHUNKS (10) calls per click; GAN_CHUNK_MAX_STEPS (20000) steps a run may reach on this server (later clicks
say so); GAN_CHUNK_CONCURRENCY (2) clicks served at once (the others queue). `spaces` is imported only when installed; without it the decorator does nothing and
the chunks run in this process (on the CPU here), which is how the tests run the same path.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ganengine.config import ConfigError
from playground.env import env_int


def enabled() -> bool:
    return os.environ.get("GAN_CHUNKED", "").strip() not in ("", "0") or bool(os.environ.get("SPACES_ZERO_GPU"))


def gpu(duration: int):
    """spaces.GPU(duration=...) when the `spaces` package is installed (a ZeroGPU Space), else a no-op decorator."""
    try:
        import spaces
    except ImportError:
        return lambda fn: fn
    return spaces.GPU(duration=duration)


def train_chunk(config: dict, knobs: dict, saved, steps: int) -> dict:
    """Train ``steps`` iterations from ``saved`` (None: a fresh run) on this process's device; return the CPU
    training state to pass to the next call, the metric rows (history columns -> floats) and the views."""
    from ganengine.config import Knobs, RunConfig
    from ganengine.nested_state import to_cpu
    from ganengine.run import GANRun
    run = GANRun(config=RunConfig.from_dict(config), knobs=Knobs.from_dict(knobs))
    if saved is not None:
        run.load_training_state(saved["state"])                  # weights, EMA, Adam, RNG streams, family state
        c = saved["counters"]
        run.set_counters(c["step"], c["updates"], c["train_seconds"])
    kind = run.family.phases[0]
    t0 = time.perf_counter()
    for _ in range(steps):
        run.train_iteration(kind)
    rows = run.gather(time.perf_counter() - t0)                 # (steps, columns): the one host sync of the chunk
    visuals = run.visuals_job()()                               # the family's views, drawn here from frozen copies
    views = {name: visuals[name] for name in visuals["views"] if isinstance(visuals.get(name), np.ndarray)}
    return {"saved": {"state": to_cpu(run.training_state()), "counters": run._counters()},
            "latest": dict(zip(run.history.columns, (float(v) for v in rows[-1]))),
            "views": views, "captions": visuals["captions"], "step": run.step}


def chunk_function(duration: int):
    """train_chunk under @spaces.GPU(duration) (or as is without `spaces`)."""
    return gpu(duration)(train_chunk)


def stream(preset: str, saved=None, *, chunks: int, steps: int, chunk=None, max_steps: int = 0):
    """The generator event: yields (first view image, status markdown, saved state) after each chunk; a run stops at
    ``max_steps`` (0: no cap), the server's budget per run."""
    from ganengine.presets import get_preset
    config, knobs = get_preset(preset).build()
    chunk = chunk or chunk_function(env_int("GAN_CHUNK_SECONDS", 60))
    cfg, kn = config.to_dict(), knobs.to_dict()
    for i in range(chunks):
        done = saved["counters"]["step"] if saved is not None else 0
        if max_steps and done + steps > max_steps:
            yield (gr_skip(), f"This run has trained {done:,} steps, this server's limit per run "
                              f"({max_steps:,}): pick the preset again for a new run, or run the app on your own "
                              f"machine for longer.", saved)
            return
        t0 = time.perf_counter()
        out = chunk(cfg, kn, saved, steps)
        saved = out["saved"]
        losses = ", ".join(f"{k} {v:.3f}" for k, v in out["latest"].items() if k.startswith("loss/") and v == v)
        first = next(iter(out["views"]))
        yield (out["views"][first],
               f"Chunk {i + 1} of {chunks}: step {out['step']} ({steps} steps in {time.perf_counter() - t0:.1f} s, "
               f"GPU call included). {losses}. {out['captions'].get(first, '')}", saved)


def gr_skip():
    """gr.skip() (keep the image shown), imported only where the tab runs."""
    import gradio as gr
    return gr.skip()


def build_chunked_tab() -> None:
    """The tab: a preset, a button that streams `GAN_CHUNKS` chunks, the view and a status line (gradio here only)."""
    import gradio as gr

    from ganengine.presets import PRESETS
    chunks, steps = env_int("GAN_CHUNKS", 10), env_int("GAN_CHUNK_STEPS", 200)
    max_steps = env_int("GAN_CHUNK_MAX_STEPS", 20_000)
    with gr.Tab("Train on ZeroGPU", id="chunked"):
        gr.Markdown(f"Each click trains {chunks} chunks of {steps} steps, one GPU call each, and shows the view after "
                    f"each chunk; a second click continues the same run. Changing the preset starts a new run.")
        names = [p.name for p in PRESETS.values() if not p.fails_on_purpose]
        preset = gr.Dropdown(names, value=names[0], label="Preset", elem_id="gp-chunk-preset")
        go = gr.Button("Train", variant="primary", elem_id="gp-chunk-train")
        status = gr.Markdown(elem_id="gp-chunk-status")       # above the view: on a phone the view fills the screen
        image = gr.Image(label="View", elem_id="gp-chunk-view", interactive=False)
        saved = gr.State(None)

        def on_click(name, state):
            try:
                yield from stream(name, state, chunks=chunks, steps=steps, max_steps=max_steps)
            except ConfigError as err:
                yield None, f"Cannot train: {err}", state

        go.click(on_click, [preset, saved], [image, status, saved],
                 concurrency_limit=env_int("GAN_CHUNK_CONCURRENCY", 2))   # the rest wait in Gradio's queue
        preset.change(lambda _n: (None, "", None), preset, [image, status, saved])
