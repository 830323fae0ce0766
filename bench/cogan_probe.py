"""CoGAN probes (bench/COGAN.md): what a setting buys at a fixed iteration count (untimed) or in a fixed time (timed),
and what the pairs look like.

    python -m bench.cogan_probe [--preset cogan-edges] [--seed 0] [--iters 1400] [--at 700,1400]
                                [--set width=12] [--set lr_g=2e-3] [--png test-artifacts/probe.png]
    /work/bin/timedbench python -m bench.cogan_probe --seconds 120 [--edge canny|soft|outer] [--head-k 5] [--d-k 3]
                                [--strided]

Builds the preset through the engine (GANRun, the code the app and the CLI train with), trains --iters iterations
("both"), or --seconds of training steps, and measures ganengine.metrics.coupled's report on 1,000 pairs of the
bench's latents (ganengine.latents.sample_latents(1000, latent, 0)) at each count in --at (at the half and the end
of --seconds). Each measurement is one JSON line: the report's agreements, self_ceiling (the readers on G1(z) and its
exact T(G1(z)): what a perfect G2 would score against this G1), seconds per iteration (median of the last 50), load.
--png writes a look-grid per measurement: 16 triples G1(z) | G2(z) | T(G1(z)), 4 a row, with a white bar under G2
when the pair is read as one digit and a grey one when not. One torch thread.
Probe-only switches (set in this process before anything is built; the code is not changed): --edge, the
digits-edges domain (code: the code's soft edges; canny: the binary outline it had before; soft; outer: the
authors' 3x3 dilation minus the digit), --head-k G's own head kernel, --d-k D's own first conv kernel, --strided
negatives' strided nets on digits-edges too.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch


def parse_sets(pairs: list) -> dict:
    out = {}
    for pair in pairs:
        k, v = pair.split("=", 1)
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


@torch.no_grad()
def look_grid(G, task: str, z: torch.Tensor, path: str) -> None:
    """Rows of G1(z) | G2(z) | T(G1(z)) triples, 4 a row, for z (16, latent); a white bar under G2 when read as
    G1's digit, a grey one when not."""
    from PIL import Image

    from ganengine.metrics.coupled import read_digits, read_domain_b, transform
    from ganengine.render import image_grid
    a, b = (t.float().cpu() for t in G(z))
    t = transform(task, a)
    ok = read_digits(a)[0] == read_domain_b(task, b)
    bar = torch.full((len(a), 1, 3, 32), -1.0)
    bar[ok] = 1.0
    bar[~ok] = 0.0
    b_marked = torch.cat([b, bar], dim=-2)                                   # (16, 1, 35, 32)
    pad = torch.full((len(a), 1, 3, 32), -1.0)
    a, t = torch.cat([a, pad], -2), torch.cat([t, pad], -2)
    gap = torch.zeros(len(a), 1, 35, 1)
    triples = torch.cat([a, gap, b_marked, gap, t], dim=-1).numpy()          # (16, 1, 35, 98)
    Image.fromarray(image_grid(triples, nrow=4, scale=3)).save(path)


@torch.no_grad()
def self_ceiling(G, task: str, z: torch.Tensor) -> float:
    """Share of G1(z) that the classifier and the edge reader (on T(G1(z)), the true edges) read as one digit: the
    class agreement a G2 drawing exactly T(G1(z)) would get, i.e. the readers' ceiling on this G1's digits."""
    from ganengine.metrics.coupled import read_digits, read_domain_b, transform
    a = torch.cat([G(c)[0] for c in z.split(500)]).float().cpu()
    return float((read_digits(a)[0] == read_domain_b(task, transform(task, a))).float().mean())


def canny_float(x: torch.Tensor) -> torch.Tensor:
    """Probe edge domain 'canny' (digits-edges before 2026-11-30 13:00): the binary Canny-style outline, as floats."""
    from ganengine.data.paired import canny_edges
    return canny_edges(x).float()


def outer_edges(x: torch.Tensor) -> torch.Tensor:
    """Probe edge domain 'outer' (the authors' mnistedge data, mingyuliutw/CoGAN dataset_mnistedge.py): grey-level
    dilation by the 3x3 square minus the image, float (N, 1, H, W) in [0, 1]."""
    import torch.nn.functional as F
    h, w = x.shape[-2:]
    p = F.pad(x, (1, 1, 1, 1))
    dil = torch.stack([p[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]).amax(0)
    return (dil - x).clamp(0, 1)


def patch(edge: str, head_k: int, d_k: int, strided: bool = False, head_layers: int = 1) -> None:
    """Probe-only switches, set in this process before anything is built: the edge domain of digits-edges (data,
    metric transform and reader all follow it), G's own head kernel, D's own first conv kernel."""
    from torch import nn

    import ganengine.data.unpaired as unpaired
    import ganengine.metrics.coupled as coupled_metrics
    import ganengine.models.coupled as coupled
    if edge != "code":
        fn = {"soft": unpaired.soft_edges, "outer": outer_edges, "canny": canny_float}[edge]
        old_data, old_metric = unpaired.transform, coupled_metrics.transform
        unpaired.transform = lambda task, im: ((fn(im.float() / 255) * 255).round().to(torch.uint8)
                                               if task == "digits-edges" else old_data(task, im))
        coupled_metrics.transform = lambda task, x: (fn((x.float() + 1) / 2) * 2 - 1 if task == "digits-edges"
                                                     else old_metric(task, x))
    if strided:                                   # digits-edges on negatives' strided nets (no full-resolution ends)
        import ganengine.families.cogan as cogan
        cogan.FULL_RESOLUTION_TASKS = ()
    old_g, old_d = coupled._g_layer, coupled._d_layer
    if head_layers == 2:                          # G's own head: conv 3x3 w -> w, BatchNorm, ReLU, then conv -> C
        coupled._g_layer = lambda i, latent, c, width, full=False: (
            nn.Sequential(nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
                          nn.Conv2d(width, c, head_k, 1, head_k // 2), nn.Tanh()) if i == 4
            else old_g(i, latent, c, width, full))
    elif head_k != 3:
        coupled._g_layer = lambda i, latent, c, width, full=False: (
            nn.Sequential(nn.Conv2d(width, c, head_k, 1, head_k // 2), nn.Tanh()) if i == 4
            else old_g(i, latent, c, width, full))
    if d_k != 5:
        coupled._d_layer = lambda i, c, width, pool=False: (
            nn.Sequential(nn.Conv2d(c, width, d_k, 1, d_k // 2), nn.LeakyReLU(0.2, True), nn.MaxPool2d(2))
            if i == 0 and pool else old_d(i, c, width, pool))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--edge", default="code", choices=("code", "canny", "soft", "outer"),
                   help="the edge domain: the code's (ganengine.data.unpaired.soft_edges) or a probe's")
    p.add_argument("--head-k", type=int, default=3)
    p.add_argument("--d-k", type=int, default=5)
    p.add_argument("--head-layers", type=int, default=1, choices=(1, 2), help="G's own head: 1 conv (the code's) "
                   "or 2 (conv, BatchNorm, ReLU, conv)")
    p.add_argument("--strided", action="store_true", help="the strided nets of negatives on digits-edges too")
    p.add_argument("--preset", default="cogan-edges")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iters", type=int, default=1400)
    p.add_argument("--seconds", type=float, default=0.0, help="train for this many seconds of training steps "
                   "instead (a timed probe: run it under /work/bin/timedbench); measured at the half and the end")
    p.add_argument("--at", default="")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--png", default="")
    p.add_argument("--tag", default="")
    args = p.parse_args()
    torch.set_num_threads(1)
    patch(args.edge, args.head_k, args.d_k, args.strided, args.head_layers)
    from ganengine.latents import sample_latents
    from ganengine.metrics.coupled import coupled_report
    from ganengine.presets import get_preset
    from ganengine.run import GANRun
    sets = parse_sets(args.set)
    config, knobs = get_preset(args.preset).build(device="cpu", seed=args.seed, **sets)
    run = GANRun(config=config, knobs=knobs)
    at = sorted({int(v) for v in args.at.split(",") if v} | {args.iters})
    z = sample_latents(1000, config.latent_dim, 0)
    real = run.source.held_out()
    times, i, spent, marks = [], 0, 0.0, [args.seconds / 2, args.seconds]   # marks: when a timed probe measures
    while spent < args.seconds if args.seconds else i < args.iters:
        i += 1
        t = time.perf_counter()
        run.train_iteration("both")
        if i % 20 == 0:
            run.gather(0.0)
        times.append(time.perf_counter() - t)
        spent += times[-1]
        if args.seconds and marks and spent >= marks[0]:
            while marks and spent >= marks[0]:
                marks.pop(0)
        elif args.seconds or i not in at:
            continue
        run.gather(0.0)
        G = run.sampler("G")
        G.eval()
        r = coupled_report(G, config.data, z, real)
        r["self_ceiling"] = self_ceiling(G, config.data, z)
        if args.png:
            look_grid(G, config.data, z[:16], args.png.replace(".png", f"_{i}.png"))
        G.train()
        print(json.dumps({"tag": args.tag, "seed": args.seed, "iters": i, "seconds": round(spent, 1), **sets, "edge": args.edge,
                          "head_k": args.head_k, "head_layers": args.head_layers, "d_k": args.d_k, "strided": args.strided,
                          "s_per_it": round(statistics.median(times[-50:]), 4),
                          **{k: round(r[k], 4) for k in ("class_agreement", "class_agreement_unpaired",
                                                         "pixel_agreement", "pixel_agreement_unpaired",
                                                         "class_agreement_real", "self_ceiling",
                                                         "class_agreement_b")},
                          "classes": r["classes"], "load": round(__import__("os").getloadavg()[0], 1)}),
              flush=True)


if __name__ == "__main__":
    main()
