"""pix2pix probe: a standalone training loop of the paired-digit building blocks, to size the edges2digits preset.

The loop is pix2pix's (Isola et al. 2017, section 3; junyanz models/pix2pix_model.py, optimize_parameters):
  fake = G(a)
  D step:  L_D = (BCE(D(a, b), 1) + BCE(D(a, fake), 0)) / 2        "we divide the objective by 2 while optimizing D"
  G step:  L_G = BCE(D(a, fake), 1) + lambda_L1 * mean |fake - b|,  lambda_L1 = 100
with BCE on logits, the paper's "vanilla" GAN loss and junyanz's default for pix2pix (G's term is the
non-saturating one; --loss lsgan swaps in Mao et al.'s least squares, ganengine/losses.py's lsgan_d / lsgan_g, whose
G term is halved relative to junyanz's MSE). Adam(lr 2e-4, betas (0.5, 0.999)) for both nets; D averages the loss
over its patch logits. Networks: ganengine/models/unet.py and patchgan.py; data: ganengine/data/paired.py.
Evaluation: G in eval mode (BatchNorm running statistics, as a one-image canvas needs) on the 500 held-out pairs:
L1, PSNR, SSIM and the bundled classifier's accuracy on the outputs (ganengine/metrics/image_quality.py).

  python -m bench.pix2pix_probe --evals 200,400,800 --seeds 0,1,2          # the defaults: the recommended preset
  python -m bench.pix2pix_probe --seconds 120 --seeds 1 --png 'p2p_{seed}_{iters}.png'
One JSON line per evaluation; time counts only the training loop (not the evaluations).

Measured 2026-11 on the project's 2-core AMD EPYC (no GPU), torch 2.14.1, one thread, OMP_WAIT_POLICY=PASSIVE, while
other agents ran tests on the same machine (load average 2-10): speeds are as measured and drift ~2x with the load;
iteration counts are the stable figures. edges2digits, held-out 500 pairs. Reference points: the classifier reads the
real targets at 97.8% and the edge maps themselves (input as output) at 36.8% (L1 0.253, PSNR 9.6 dB, SSIM 0.34);
for blur2digits the blurred inputs already score 87.0%, so that task is not a test of the 90% target.

  config (G width / D width, D layers 2, batch, Adam lr)   seed   200 it   400 it   800 it   (classifier accuracy)
  16 / 16, batch 16, lr 5e-4 (recommended)                  0      90.0%    94.4%    95.4%
                                                            1      61.0%    89.6%    94.4%    1456 it in 120 s: 95.2%
                                                            2      85.0%    93.0%    95.4%
  16 / 16, batch 16, lr 2e-4 (the paper's lr)               0      74.2%    85.6%    94.0%
  16 / 16, batch 16, lr 1e-3                                1      87.0%    91.8%      -
  8 / 16, batch 16, lr 2e-4                                 0        -      33.6%      -      (D wins; stopped)
  At 800 it (lr 5e-4, 3 seeds): L1 0.050-0.051, PSNR 20.7-20.8 dB, SSIM 0.80; at 1456 it: L1 0.046, 21.3 dB, 0.82.

  it/s, G width 16 / D 16:   batch 16    batch 32    batch 64
    1 thread                 12.3        8.3         4.6       (5.5-6.7 under the heaviest load seen)
    2 threads                 9.7        7.4         4.0       (same minute; two threads lose on the shared 2 cores)
  G width 32 / D 32, batch 16: 2.2 it/s and batch 32: 1.2 it/s under load (~4x the FLOPs of width 16).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from bench.common import ROOT  # noqa: E402,F401  (puts the repository on sys.path)
from ganengine import losses  # noqa: E402
from ganengine.data.paired import PairedDigitSource  # noqa: E402
from ganengine.metrics.image_quality import translation_metrics  # noqa: E402
from ganengine.models.patchgan import PatchDiscriminator  # noqa: E402
from ganengine.models.unet import UNetGenerator  # noqa: E402

GAN_LOSSES = {"vanilla": (losses.bce_d, losses.ns_g), "lsgan": (losses.lsgan_d, losses.lsgan_g)}


@dataclass
class ProbeConfig:
    task: str = "edges2digits"
    width: int = 16          # U-Net base width (ngf; the paper's 64 is for 256 px): 32 is ~4x slower, 8 lets D win
    d_width: int = 16        # PatchGAN base width (ndf)
    d_layers: int = 2        # 2: 34 px patches at 32 px (patchgan.py)
    dropout: float = 0.0     # unet.py: none at 32 px, as junyanz's code
    batch: int = 16          # the paper uses 1-10 at 256 px; 16 gives the most iterations per second here
    lr: float = 5e-4         # Adam, both nets; the paper's 2e-4 needs ~2x the iterations for 90% (table above)
    beta1: float = 0.5       # (paper)
    lambda_l1: float = 100.0 # (paper)
    loss: str = "vanilla"    # vanilla (BCE, pix2pix) or lsgan
    seed: int = 0


def build(cfg: ProbeConfig):
    """(G, D, opt_g, opt_d, source), seeded: nets from torch.manual_seed(seed), data from seed + 1."""
    torch.manual_seed(cfg.seed)
    g = UNetGenerator(width=cfg.width, dropout=cfg.dropout)
    d = PatchDiscriminator(width=cfg.d_width, n_layers=cfg.d_layers)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    return g, d, opt_g, opt_d, PairedDigitSource(cfg.task, seed=cfg.seed + 1)


def train_step(g, d, opt_g, opt_d, batch, *, lambda_l1: float = 100.0, loss: str = "vanilla") -> dict:
    """One pix2pix iteration (D then G) on batch = (input, target, label); returns the losses as tensors."""
    d_loss_fn, g_loss_fn = GAN_LOSSES[loss]
    a, b, _ = batch                                       # (B, 1, 32, 32) each
    fake = g(a)                                           # (B, 1, 32, 32)
    d.requires_grad_(True)
    loss_d = d_loss_fn(d(a, b), d(a, fake.detach()))      # halved inside bce_d / lsgan_d
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d.requires_grad_(False)                               # G's step does not need D's weight gradients
    loss_gan = g_loss_fn(d(a, fake))
    loss_l1 = (fake - b).abs().mean()
    loss_g = loss_gan + lambda_l1 * loss_l1
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss/D": loss_d.detach(), "loss/G/GAN": loss_gan.detach(), "loss/G/L1": loss_l1.detach()}


@torch.no_grad()
def evaluate(g, source, png: str | None = None) -> dict:
    """Held-out metrics of G (eval mode), then back to train mode; png: also save input / output / target rows of
    the first two held-out digits of each class."""
    g.eval()
    a, b, label = source.held_out()
    out = torch.cat([g(chunk) for chunk in a.split(250)])  # (500, 1, 32, 32)
    g.train()
    if png:
        from torchvision.utils import save_image
        pick = torch.cat([torch.nonzero(label == c).squeeze(1)[:2] for c in range(10)])  # (20,)
        save_image(torch.cat([a[pick], out[pick], b[pick]]).add(1).div(2), png, nrow=len(pick), padding=1)
    return translation_metrics(out, b, label)


def run(cfg: ProbeConfig, *, evals: list[int] | None = None, seconds: float | None = None, png: str | None = None):
    """Train, evaluating at each iteration count in evals (or once after `seconds` of training); yields rows.
    png: a file name pattern with {seed} and {iters}, for evaluate's strips."""
    g, d, opt_g, opt_d, source = build(cfg)
    step, train_time = 0, 0.0
    targets = sorted(evals or [])
    while True:
        t0 = time.perf_counter()
        last = None
        while (seconds is not None and train_time + time.perf_counter() - t0 < seconds) or \
                (seconds is None and step < targets[0]):
            last = train_step(g, d, opt_g, opt_d, source.sample(cfg.batch), lambda_l1=cfg.lambda_l1, loss=cfg.loss)
            step += 1
        train_time += time.perf_counter() - t0
        row = {"seed": cfg.seed, "iters": step, "train_s": round(train_time, 2), "it_per_s": round(step / train_time, 2),
               **{k: round(float(v), 4) for k, v in (last or {}).items()},
               **{k: round(v, 4) for k, v in evaluate(g, source, png and png.format(seed=cfg.seed, iters=step)).items()}}
        yield row
        if seconds is not None:
            return
        targets.pop(0)
        if not targets:
            return


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f, v in asdict(ProbeConfig()).items():
        if f != "seed":
            p.add_argument("--" + f.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--seeds", default="0", help="comma-separated seeds, run one after another")
    p.add_argument("--evals", default="200,400,800,1600", help="iteration counts to evaluate at")
    p.add_argument("--seconds", type=float, default=None, help="train this long instead, then evaluate once")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--png", default=None, help="save held-out input/output/target strips, e.g. 'p2p_{seed}_{iters}.png'")
    args = vars(p.parse_args(argv))
    torch.set_num_threads(args.pop("threads"))
    seeds, evals, seconds, png = args.pop("seeds"), args.pop("evals"), args.pop("seconds"), args.pop("png")
    print(json.dumps({"config": args, "threads": torch.get_num_threads()}), flush=True)
    for seed in (int(s) for s in seeds.split(",")):
        cfg = ProbeConfig(**args, seed=seed)
        for row in run(cfg, evals=[int(e) for e in evals.split(",")], seconds=seconds, png=png):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
