"""The checkpoint verbs other than sample (`translate`, `eval`) and `presets`, and the check that a checkpoint's
family answers a verb at all."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ganengine.config import ConfigError


def needs_verb(ckpt: dict, verb: str) -> None:
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
    needs_verb(ckpt, "translate")
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
