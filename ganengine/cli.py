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
import sys

from ganengine.config import (COUPLED_MODELS, COUPLED_TASKS, DATASETS, DEVICES, FAMILIES, LOSSES, MODELS,
                              PAIRED_TASKS, PROGRESSIVE_DATA, SR_TASKS, STYLE_TASKS, UNPAIRED_TASKS, VIDEO_TASKS,
                              ConfigError)

# The verbs, one module each job (re-exported here: ganengine.cli.cmd_train etc. stay importable).
from ganengine.cli_sample import cmd_sample
from ganengine.cli_train import cmd_train
from ganengine.cli_verbs import cmd_eval, cmd_presets, cmd_translate

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
