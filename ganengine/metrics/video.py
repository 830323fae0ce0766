"""Metrics of generated clips of moving digits (ganengine.data.moving), where the true motion is known.

  per-frame L1 / PSNR   mean |x~_t - x_t| (in [-1, 1] units) and PSNR (ganengine.metrics.image_quality.psnr) against
                        the real frame, per frame index t and overall
  warp error            temporal consistency with the known motion: E_t>=1 mean |x~_t - W_t(x~_{t-1})|, W_t the
                        shift by the digit's true displacement p_t - p_{t-1}. A real clip scores exactly 0
                        (frame_t = W_t(frame_{t-1}), nothing leaves the canvas); flicker (a stroke filled differently
                        from one frame to the next) raises it. It is the warping error of Lai et al. 2018 ("Learning
                        Blind Video Temporal Consistency", section 5.1) with the true motion in place of optical flow
  identity              the bundled classifier (ganengine.metrics.classifier) on each frame's 20 x 20 digit tile,
                        cut at the known position and re-padded to 28 x 28 as MNIST: per-frame accuracy against the
                        clip's label, mean confidence (max softmax), and "kept": the share of clips whose frames all
                        get one class ("kept_true": that class is the label)
  motion                the generated digit's centre of mass (ink = pixels above -1) against the real one's, per
                        frame: mean distance in px ("com_error"), and how far each moves over the clip ("travel":
                        summed frame-to-frame displacement, px; the real clips' beside it)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ganengine.data.moving import TILE


def shift(frames: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """frames (N, C, H, W) moved by d (N, 2) int64 (rows, cols), each by its own displacement; what leaves one side
    comes in on the other (a clip's digit never reaches the border, so for it this is an exact shift)."""
    n, c, h, w = frames.shape
    rows = (torch.arange(h, device=frames.device) - d[:, :1]) % h                     # (N, H): source row
    cols = (torch.arange(w, device=frames.device) - d[:, 1:]) % w                     # (N, W): source column
    out = frames.gather(2, rows[:, None, :, None].expand(n, c, h, w))
    return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))


def warp_error(frames: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Per-clip warp error (B,) of frames (B, T, C, H, W) moving along path (B, T, 2); 0 for a real clip."""
    b, t = frames.shape[:2]
    if t < 2:
        return torch.zeros(b, device=frames.device)
    d = (path[:, 1:] - path[:, :-1]).reshape(-1, 2)                                   # (B (T-1), 2)
    prev = shift(frames[:, :-1].reshape(-1, *frames.shape[2:]), d)                    # W_t(x~_{t-1})
    err = (frames[:, 1:].reshape(prev.shape) - prev).abs().flatten(1).mean(1)        # (B (T-1),)
    return err.view(b, t - 1).mean(1)


def tiles_at(frames: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """frames (B, T, 1, H, W), path (B, T, 2) -> the 20 x 20 tile at each position, (B T, 1, 20, 20)."""
    x = frames.reshape(-1, *frames.shape[-2:])                                        # (B T, H, W)
    p = path.reshape(-1, 2)
    rows = p[:, :1] + torch.arange(TILE, device=p.device)                             # (B T, 20)
    cols = p[:, 1:] + torch.arange(TILE, device=p.device)
    return x[torch.arange(len(x))[:, None, None], rows[:, :, None], cols[:, None, :]][:, None]


def centre_of_mass(frames: torch.Tensor) -> torch.Tensor:
    """(..., 1, H, W) in [-1, 1] -> (..., 2) ink-weighted mean (row, col); the canvas centre for a blank frame."""
    ink = (frames.float() + 1).clamp(min=0)[..., 0, :, :]                             # (..., H, W)
    h, w = ink.shape[-2:]
    total = ink.sum((-2, -1)).clamp(min=1e-6)
    r = (ink.sum(-1) * torch.arange(h, dtype=ink.dtype)).sum(-1) / total
    c = (ink.sum(-2) * torch.arange(w, dtype=ink.dtype)).sum(-1) / total
    return torch.stack([r, c], -1)


@torch.no_grad()
def clip_report(fake: torch.Tensor, real: torch.Tensor, label: torch.Tensor, path: torch.Tensor) -> dict:
    """The module's metrics of generated clips fake against real ones, both (B, T, 1, H, W) in [-1, 1], JSON-able."""
    from ganengine.metrics.classifier import classify
    from ganengine.metrics.image_quality import psnr
    fake, real, label, path = (t.detach().float().cpu() if t.is_floating_point() else t.cpu()
                               for t in (fake, real, label, path))
    b, t = fake.shape[:2]
    l1 = (fake - real).abs().flatten(2).mean(2)                                       # (B, T)
    db = psnr(fake.flatten(0, 1), real.flatten(0, 1)).view(b, t)                      # (B, T)
    probs, _ = classify(F.pad(tiles_at(fake, path), (4, 4, 4, 4), value=-1.0))       # (B T, 10)
    pred, conf = probs.argmax(1).view(b, t), probs.max(1).values.view(b, t)
    same = (pred == pred[:, :1]).all(1)                                               # (B,) one class all clip
    com_f, com_r = centre_of_mass(fake), centre_of_mass(real)                         # (B, T, 2)
    travel = lambda com: (com[:, 1:] - com[:, :-1]).norm(dim=-1).sum(1).mean()        # noqa: E731
    return {"kind": "video", "clips": b, "frames": t,
            "l1": float(l1.mean()), "psnr": float(db.mean()),
            "l1_per_frame": [float(v) for v in l1.mean(0)], "psnr_per_frame": [float(v) for v in db.mean(0)],
            "warp": float(warp_error(fake, path).mean()), "warp_real": float(warp_error(real, path).mean()),
            "accuracy": float((pred == label[:, None]).float().mean()), "confidence": float(conf.mean()),
            "kept": float(same.float().mean()), "kept_true": float((same & (pred[:, 0] == label)).float().mean()),
            "com_error": float((com_f - com_r).norm(dim=-1).mean()),
            "travel": float(travel(com_f)), "travel_real": float(travel(com_r))}
