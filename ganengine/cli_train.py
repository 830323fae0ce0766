"""`python -m ganengine train`: build the run (a preset, flags, or --resume CKPT), train it on the main thread while
a helper thread prints progress and writes grids, then write checkpoint.pt, metrics.jsonl, config.json, samples.png
and progress.gif (the formats: ganengine.cli's docstring)."""
from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import numpy as np

from ganengine.config import ConfigError

_TRAIN_SETTINGS = ("family", "data", "model", "loss", "batch_size", "lr_g", "lr_d", "d_steps", "latent_dim", "width",
                   "depth", "image_size", "r1_weight", "ema_decay", "seed", "device", "data_root", "points_path", "folder_path",
                   "phase_steps")


def cmd_train(args) -> int:
    from ganengine.checkpoint import save_checkpoint, write_atomic
    from ganengine.presets import get_preset, preset_for_data
    from ganengine.render import gif_bytes, png_bytes
    from ganengine.trainer import Trainer

    if args.steps is not None and args.steps < 1:
        raise ConfigError("--steps must be at least 1")
    if args.seconds is not None and not args.seconds > 0:
        raise ConfigError("--seconds must be positive")
    if args.resume:
        preset, config, knobs, ckpt = _resumed(args)
    else:
        from ganengine.presets import FAMILY_DEFAULTS
        preset = get_preset(args.preset) if args.preset else \
            preset_for_data(args.data or FAMILY_DEFAULTS[args.family or "gan"])
        overrides = {k: getattr(args, k) for k in _TRAIN_SETTINGS if getattr(args, k) is not None}
        if args.no_download:
            overrides["download"] = False
        overrides.update(_family_knobs(args.knob or []))
        if args.preset and args.data and args.data != preset.config.get("data"):
            overrides["data"] = args.data
        config, knobs = preset.build(**overrides)
        ckpt = None
    seconds = 0.0 if args.steps else (args.seconds or preset.seconds)
    from ganengine import distributed
    ctx = distributed.launch(args)  # None unless torchrun started several processes (ganengine.distributed)
    if ctx is not None and not ctx.is_main:  # ranks 1.. train in step with rank 0 and write nothing
        return distributed.follow(ctx, config, knobs, ckpt, steps=args.steps, threads=ctx.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    metrics_file = open(out / "metrics.jsonl", "a" if ckpt is not None else "w")  # a resumed run appends
    lock = threading.Lock()

    def on_rows(rows, columns):
        with lock:
            for row in rows:
                metrics_file.write(json.dumps({c: _json_number(v) for c, v in zip(columns, row)}) + "\n")

    threads = args.threads  # None: the Trainer picks (every core; 1 for a small step: ganengine.device)
    threads = ctx.threads if ctx is not None else threads
    trainer = Trainer(config=config, knobs=knobs, max_steps=args.steps or 0, max_seconds=seconds,
                      threads=threads, on_rows=on_rows)
    if ckpt is not None:  # continue the saved run: its budget counts from where it stopped
        trainer.load_checkpoint(ckpt)
        trainer.set_limits(max_steps=trainer.run.step + args.steps if args.steps else 0,
                           max_seconds=trainer.run.train_seconds + seconds if seconds else 0)
    if ctx is not None:
        ctx.attach(trainer.run)
    spec = trainer.snapshot().spec
    (out / "config.json").write_text(json.dumps({
        "preset": preset.name, "config": config.to_dict(), "knobs": knobs.to_dict(),
        "data": {"title": spec.title, "shape": list(spec.shape), "size": spec.size, "source": spec.source},
        "device": str(trainer.run.device), "budget": {"steps": args.steps or 0, "seconds": seconds}}, indent=2))
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    from ganengine.families import family_class
    say(f"{'resuming' if ckpt is not None else 'training'} {preset.title!r} ({config.family}): "
        f"{family_class(config.family).describe(config)} on "
        f"{spec.title}, loss {knobs.loss}, "
        f"{'%d steps' % args.steps if args.steps else '%g s' % seconds}, device {trainer.run.device}, output {out}/")
    if ctx is not None:
        say(ctx.describe(knobs.batch_size))

    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(1))
    written = set()

    def write_grid(step, frame):
        if step not in written:
            written.add(step)
            write_atomic(out / f"grid_{step:07d}.png", png_bytes(frame))

    def report():
        """Progress lines and grids from a helper thread, while training runs on the main thread."""
        last_print, last_step = 0.0, -1
        while True:
            finished = stop_reporting.wait(0.25)
            snap = trainer.snapshot()
            if interrupted and snap.status == "running":
                trainer.pause()
            if snap.visuals.get("frame") is not None:
                write_grid(snap.visuals["step"], snap.visuals["frame"])
            if snap.step and snap.step != last_step and (time.monotonic() - last_print > 2.0 or finished):
                last_print, last_step = time.monotonic(), snap.step  # a slow step is not printed twice
                say(_progress_line(snap, args.steps, seconds))
            if finished:
                return

    stop_reporting = threading.Event()
    reporter = threading.Thread(target=report, name="cli-progress", daemon=True)
    reporter.start()
    try:
        trainer.run_foreground()
    finally:
        signal.signal(signal.SIGINT, previous)
        stop_reporting.set()
        reporter.join(5)
        with lock:
            metrics_file.close()
    snap = trainer.snapshot()
    if snap.message and "Finished" not in snap.message:
        say(snap.message)
    with trainer.with_run() as run:
        save_checkpoint(run, out / "checkpoint.pt")
        final = run.render_visuals()
    snap = trainer.snapshot()
    for step, frame in zip(snap.timeline_steps, snap.timeline_frames):
        write_grid(step, frame)
    write_grid(final["step"], final["frame"])
    write_atomic(out / "samples.png", png_bytes(final["frame"]))
    frames = list(snap.timeline_frames) + [final["frame"]]
    write_atomic(out / "progress.gif", gif_bytes(frames, duration_ms=150))
    say(f"wrote {out / 'checkpoint.pt'}, metrics.jsonl, config.json, samples.png, progress.gif and grid_*.png "
        f"({snap.step} steps in {snap.train_seconds:.1f} s)")
    if ctx is not None:
        ctx.close()
    return 130 if interrupted else 0


def _family_knobs(pairs: list) -> dict:
    """--knob NAME=VALUE flags -> {name: float}; ConfigError for a name no family has or a value that is no number
    (whether the run's family has it, and its range, are checked when the preset is built)."""
    from ganengine.families import family_knob_specs
    specs, out = family_knob_specs(), {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in specs:
            raise ConfigError(f"--knob {pair}: no family has a knob {name!r}; knobs: {', '.join(specs)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--knob {pair}: the value must be a number") from None
    return out


def _resumed(args):
    """(preset, config, knobs, checkpoint) of --resume CKPT; settings flags other than the budget are refused."""
    from ganengine.checkpoint import read_checkpoint
    from ganengine.presets import Preset
    given = [k for k in _TRAIN_SETTINGS if k not in ("device",) and getattr(args, k) is not None] + \
        (["knob"] if args.knob else [])
    if args.preset or given:
        raise ConfigError(f"--resume continues the saved run with its own settings; drop "
                          f"{', '.join('--' + k.replace('_', '-') for k in (['preset'] if args.preset else []) + given)}")
    ckpt = read_checkpoint(args.resume)
    config, knobs = ckpt["_config"], ckpt["_knobs"]
    if args.device:
        config = config.with_changes(device=args.device)
    preset = Preset(name=f"resume:{Path(args.resume).name}", title=f"resumed {Path(args.resume)}", watch="",
                    seconds=60.0)
    return preset, config, knobs, ckpt


def _json_number(v):
    v = float(v)
    return v if np.isfinite(v) else None


def _progress_line(snap, steps, seconds) -> str:
    m = snap.latest
    max_steps, max_seconds = snap.limits.get("max_steps", 0), snap.limits.get("max_seconds", 0)  # a resume's too
    if max_steps:
        frac = snap.step / max_steps
    else:
        frac = snap.train_seconds / max_seconds if max_seconds else 0.0
    def f(key):
        v = m.get(key, float("nan"))
        return "  -  " if not np.isfinite(v) else f"{v:.3f}"
    losses = "  ".join(f"Loss_{k[5:]} {f(k)}" for k in m if k.startswith("loss/"))  # every loss the family reports
    d_out = f"  D(x) {f('D(x)')}  D(G(z)) {f('D(G(z))/before')} / {f('D(G(z))/after')}" if "D(x)" in m else ""
    return (f"[{snap.step:7d}] {100 * min(frac, 1):5.1f}%  {losses}{d_out}  "
            f"{snap.steps_per_sec:6.1f} it/s  {snap.train_seconds:6.1f} s")
