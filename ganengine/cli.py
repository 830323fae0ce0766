"""Command line: train headless, sample from a checkpoint, evaluate one, list presets.

  python -m ganengine train --data ring8 --seconds 60 --seed 0 --out runs/ring8
  python -m ganengine train --data mnist --model dcgan --loss ns --steps 2000 --out runs/mnist
  python -m ganengine train --resume runs/mnist/checkpoint.pt --seconds 60 --out runs/mnist
  python -m ganengine sample runs/ring8/checkpoint.pt --n 2500 --seed 1 --out samples.npy
  python -m ganengine sample runs/cogan/checkpoint.pt --n 64 --out pairs.npz   (CoGAN: a, b from the same z)
  python -m ganengine eval runs/ring8/checkpoint.pt
  python -m ganengine presets

Without flags, a dataset trains with its tuned preset (ganengine.presets); flags override single settings.
--family names the GAN family (ganengine.families; default gan, whose models are mlp, dcgan and cgan). A verb a
family does not answer (sample, translate) ends with one line and exit status 2.
metrics.jsonl has one JSON object per step, keyed by the run's named scalars (ganengine.history.metric_columns):
step, time, the family's scalars (gan: loss/D, loss/G, D(x), D(G(z))/before, D(G(z))/after, grad/G, grad/D),
steps_per_sec, lr_g, lr_d; null where a value was not computed (a D-only step has no loss/G).
Bad arguments and bad files end with one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import io
import json
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ganengine.config import (COUPLED_MODELS, COUPLED_TASKS, DATASETS, DEVICES, FAMILIES, LOSSES, MODELS,
                              PAIRED_TASKS, PROGRESSIVE_DATA, SR_TASKS, STYLE_TASKS, UNPAIRED_TASKS, VIDEO_TASKS,
                              ConfigError)

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, not argparse's usage dump
        raise ConfigError(f"{message} (see python -m ganengine {self.prog.split()[-1]} --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ganengine", description="Train and sample GANs headless (the GAN Playground's engine).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a GAN and write checkpoint.pt, metrics.jsonl, config.json and grids")
    t.add_argument("--preset", help="a named preset (python -m ganengine presets); default: the dataset's")
    t.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT exactly where it stopped "
                                                    "(--steps / --seconds: how much more; settings come from CKPT)")
    t.add_argument("--family", choices=FAMILIES, help="GAN family (default gan, or the preset's)")
    t.add_argument("--data", choices=DATASETS + PAIRED_TASKS + UNPAIRED_TASKS + STYLE_TASKS + PROGRESSIVE_DATA +
                   COUPLED_TASKS + VIDEO_TASKS + SR_TASKS, help="dataset (default ring8)")
    t.add_argument("--model", choices=MODELS + COUPLED_MODELS, help="gan: mlp, dcgan, cgan; cogan: sharedK, K of "
                                                                     "the 4 layers shared by its Gs and its Ds")
    t.add_argument("--loss", choices=LOSSES)
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="train this many iterations")
    budget.add_argument("--seconds", type=float, help="train this many seconds (default: the preset's budget)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr-g", type=float)
    t.add_argument("--lr-d", type=float)
    t.add_argument("--d-steps", type=int, help="D updates per G update")
    t.add_argument("--latent-dim", type=int)
    t.add_argument("--width", type=int)
    t.add_argument("--depth", type=int, help="2-D MLPs: hidden layers; pix2pix: PatchGAN layers; cyclegan: G's "
                                             "residual blocks")
    t.add_argument("--image-size", type=int, help="image side (28, 32, 64...); default the dataset's own")
    t.add_argument("--phase-steps", type=int, help="progan: steps of each fade-in and each stable phase")
    t.add_argument("--knob", action="append", metavar="NAME=VALUE", help="one of the family's own live knobs "
                   "(pix2pix: lambda_l1; cyclegan: lambda_cycle, lambda_identity; progan: drift); repeat for several")
    t.add_argument("--r1", type=float, dest="r1_weight", help="R1 penalty weight gamma")
    t.add_argument("--ema", type=float, dest="ema_decay", help="EMA decay of G's weights (0 = off)")
    t.add_argument("--seed", type=int)
    t.add_argument("--device", choices=DEVICES)
    t.add_argument("--threads", type=int, help="torch CPU threads (default: every core; 1 for a small step, ganengine.device)")
    t.add_argument("--data-root", help="folder for torchvision datasets (default ./data)")
    t.add_argument("--points", dest="points_path", help="CSV or .npy of N x 2 points (with --data points)")
    t.add_argument("--folder", dest="folder_path", help="image folder (with --data folder)")
    t.add_argument("--no-download", action="store_true", help="never download datasets")
    t.add_argument("--out", default="runs/latest", help="output folder (default runs/latest)")
    t.add_argument("--quiet", action="store_true")

    s = sub.add_parser("sample", help="draw samples from a checkpoint into .npy (data space) or .png (a grid); "
                                      "cogan: .npz of pairs a, b (N, C, H, W) from the same z; clips (vid2vid) into "
                                      ".npz or an animated .gif")
    s.add_argument("checkpoint")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", type=int, help="class to draw (conditional models)")
    s.add_argument("--out", default="samples.npy")
    s.add_argument("--no-ema", action="store_true", help="use G's raw weights even if the checkpoint has an EMA copy")

    tr = sub.add_parser("translate", help="translate held-out pairs into .npz, or one image file into a .png")
    tr.add_argument("checkpoint")
    src = tr.add_mutually_exclusive_group(required=True)
    src.add_argument("--split", choices=("test", "train"), help="pairs of a split (test: the 500 held out)")
    src.add_argument("--input", help="an image file (a sketch) to translate")
    tr.add_argument("--direction", help="which way, for families that translate both ways (cyclegan: ab, the "
                                        "default, or ba)")
    tr.add_argument("--style", help="the target style, for families that translate into one of several (styles: "
                                    "plain, pixel, hatched, stipple, brush)")
    tr.add_argument("--n", type=int, default=500, help="pairs to translate (with --split)")
    tr.add_argument("--seed", type=int, default=0, help="which pairs, in which order (with --split)")
    tr.add_argument("--out", required=True, help=".npz (with --split) or .png (with --input)")

    e = sub.add_parser("eval", help="print quality metrics of a checkpoint as JSON")
    e.add_argument("checkpoint")
    e.add_argument("--n", type=int, default=2500, help="samples to draw")
    e.add_argument("--seed", type=int, default=0)

    sub.add_parser("presets", help="list the presets")
    return p


# ---- train ---------------------------------------------------------------------------------------------------
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


# ---- sample --------------------------------------------------------------------------------------------------
def cmd_sample(args) -> int:
    import torch

    from ganengine.checkpoint import generator_from_checkpoint, read_checkpoint, write_atomic
    from ganengine.families import family_class
    from ganengine.latents import sample_latents
    from ganengine.models import is_conditional
    from ganengine.render import image_grid, png_bytes, scatter_image

    if not 1 <= args.n <= 1_000_000:
        raise ConfigError("--n must be between 1 and 1000000")
    out = Path(args.out)
    if out.suffix.lower() not in (".npy", ".png", ".npz", ".gif"):
        raise ConfigError(f"--out must end in .npy or .png (.npz: CoGAN's pairs or clips; .gif: clips), got {out.name}")
    ckpt = read_checkpoint(args.checkpoint)
    _needs_verb(ckpt, "sample")
    family = family_class(ckpt["_config"].family)
    if family.sample_clips is not None:                     # a family whose samples are clips (vid2vid)
        return _sample_clips(ckpt, args)
    if out.suffix.lower() not in family.sample_suffixes:
        raise ConfigError(f"a {family.name} checkpoint samples into {' or '.join(family.sample_suffixes)} files; "
                          f"got {out.name}")
    if out.suffix.lower() == ".npz":                      # a family that draws several linked arrays (CoGAN: a, b)
        if args.label is not None:
            raise ConfigError(f"--label needs a conditional (cgan) checkpoint, not a {family.name} one")
        arrays = family.sample_arrays(ckpt, n=args.n, seed=args.seed, ema=not args.no_ema)
        out.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        write_atomic(out, buf.getvalue())
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in arrays.items())
        print(f"wrote {out} ({shapes})")
        return 0
    G, config, spec = generator_from_checkpoint(ckpt, ema=not args.no_ema)
    from ganengine.families import family_class
    note = family_class(config.family).sample_note(ckpt)   # e.g. a progan G that has not grown to full size yet
    if note:
        print(note, file=sys.stderr)
    conditional = is_conditional(G)   # the network says whether it takes a class, not the model's name
    if args.label is not None:
        if not conditional:
            raise ConfigError("--label needs a conditional (cgan) checkpoint")
        if not 0 <= args.label < spec.num_classes:
            raise ConfigError(f"--label must be in 0..{spec.num_classes - 1}")
    z = sample_latents(args.n, config.latent_dim, args.seed)
    chunks = []
    with torch.no_grad():
        for i, zc in enumerate(z.split(1000)):
            y = None
            if conditional:
                idx = torch.arange(i * 1000, i * 1000 + len(zc))
                y = torch.full_like(idx, args.label) if args.label is not None else idx % spec.num_classes
            chunks.append(G(zc, y).float())
    x = torch.cat(chunks).numpy().astype(np.float32)  # (N, 2) or (N, C, H, W)
    if out.suffix.lower() == ".npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, x)
    else:
        img = scatter_image(None, x, spec.bounds) if spec.is_points else \
            image_grid(x[:256], nrow=spec.num_classes if conditional and args.label is None else 8)
        write_atomic(out, png_bytes(img))
    print(f"wrote {out} ({x.shape[0]} samples, shape {tuple(x.shape[1:])})")
    return 0


def _sample_clips(ckpt: dict, args) -> int:
    """`sample` of a family whose samples are clips: .npz of its arrays (clips, condition, ... (N, T, C, H, W) in
    [-1, 1]) or an animated .gif (per frame: condition | real | generated, one clip a row, up to 8 clips)."""
    from ganengine.checkpoint import write_atomic
    from ganengine.families import family_class
    from ganengine.render import gif_bytes, image_grid
    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".gif"):
        raise ConfigError(f"a {ckpt['_config'].family} checkpoint samples clips: --out must end in .npz or .gif, "
                          f"got {out.name}")
    if args.label is not None or args.no_ema:
        raise ConfigError("--label and --no-ema do not apply to clips")
    arrays = family_class(ckpt["_config"].family).sample_clips(ckpt, n=args.n, seed=args.seed)
    clips = arrays["clips"]                                                       # (N, T, C, H, W)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez(out, **arrays)
    else:
        rows = [arrays[k][:8] for k in ("condition", "real", "clips") if k in arrays]
        per_t = np.stack(rows, 2)                                                 # (n, T, rows, C, H, W)
        frames = [image_grid(per_t[:, t].reshape(-1, *clips.shape[2:]), nrow=len(rows), scale=3)
                  for t in range(clips.shape[1])]
        write_atomic(out, gif_bytes(frames, duration_ms=150))
    print(f"wrote {out} ({len(clips)} clips of {clips.shape[1]} frames, {tuple(clips.shape[2:])} each)")
    return 0


def _needs_verb(ckpt: dict, verb: str) -> None:
    """ConfigError (one line, exit status 2) when the checkpoint's family does not answer this verb."""
    from ganengine.families import family_class
    family = family_class(ckpt["_config"].family)
    if verb not in family.verbs:
        others = f"; it answers {', '.join(family.verbs)}" if family.verbs else ""
        raise ConfigError(f"a {family.name} checkpoint cannot {verb}{others}")


def cmd_translate(args) -> int:
    from ganengine.checkpoint import read_checkpoint, write_atomic
    from ganengine.families import family_class
    from ganengine.render import png_bytes
    out = Path(args.out)
    want = ".npz" if args.split else ".png"
    if out.suffix.lower() != want:
        raise ConfigError(f"--out must end in {want} with {'--split' if args.split else '--input'}, got {out.name}")
    ckpt = read_checkpoint(args.checkpoint)
    _needs_verb(ckpt, "translate")
    family = family_class(ckpt["_config"].family)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.split:
        arrays = family.translate_split(ckpt, split=args.split, n=args.n, seed=args.seed, direction=args.direction,
                                         style=args.style)
        np.savez(out, **arrays)
        print(f"wrote {out} ({len(arrays['label'])} pairs: input, output, target {arrays['output'].shape[1:]}, label)")
    else:
        write_atomic(out, png_bytes(family.translate_image(ckpt, Path(args.input), direction=args.direction,
                                                                style=args.style)))
        print(f"wrote {out}")
    return 0


def cmd_eval(args) -> int:
    from ganengine.checkpoint import read_checkpoint
    from ganengine.families import family_class
    ckpt = read_checkpoint(args.checkpoint)
    family = family_class(ckpt["_config"].family)
    result = family.evaluate(ckpt, n=args.n, seed=args.seed)
    print(json.dumps({"checkpoint": str(args.checkpoint), "family": family.name, "step": int(ckpt["step"]),
                      "train_seconds": float(ckpt.get("train_seconds", 0)), **result}, indent=2))
    return 0


def cmd_presets(args) -> int:
    from ganengine.presets import PRESETS
    for p in PRESETS.values():
        tag = " (fails on purpose)" if p.fails_on_purpose else ""
        print(f"{p.name:14s} [{p.family}] {p.title}{tag}: {p.watch}")
    return 0


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"train": cmd_train, "sample": cmd_sample, "translate": cmd_translate, "eval": cmd_eval,
                "presets": cmd_presets}[args.command](args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"error: {err.strerror or err} ({getattr(err, 'filename', '') or ''})", file=sys.stderr)
        return EXIT_USAGE
