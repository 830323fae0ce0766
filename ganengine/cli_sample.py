"""`python -m ganengine sample`: draw samples from a checkpoint into .npy (data space) or .png (a grid); a family's
linked arrays into .npz (CoGAN: a, b from the same z); clips (vid2vid) into .npz or an animated .gif."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

from ganengine.cli_verbs import needs_verb
from ganengine.config import ConfigError


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
    needs_verb(ckpt, "sample")
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
