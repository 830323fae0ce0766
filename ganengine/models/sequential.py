"""The sequential generator of vid2vid (Wang et al. 2018, "Video-to-Video Synthesis", section 3.1, eq. 2 and 4):
frame t is made from the current and previous conditioning frames and the previously GENERATED frame, warped by the
motion and blended with a newly drawn ("hallucinated") image through a soft occlusion mask,
  x~_t = m_t * W(x~_{t-1}) + (1 - m_t) * h_t,       (h_t, m_t) = G(s_t, s_{t-1}, W(x~_{t-1}))      (the paper's eq. 4)
so what G drew before (the stroke fill, the grey levels, the digit's very shape) is carried into the next frame by
the warp, and G only has to draw what the warp cannot give (m_t -> 0 there).

Kept from vid2vid (NVIDIA/vid2vid models/networks.py CompositeGenerator: img_final = img_warp * weight + img_raw *
(1 - weight); vid2vid_model_G.py): the warp of the previous generated frame, the soft mask blending it with the raw
image, one past frame (n_frames_G = 2), the previous frame detached (max_frames_backpropagate 1: gradients reach G
through each frame's own output, not back in time), and the first frame drawn raw (--no_first_img with
use_raw_only: with no previous frame, x~_0 = h_0).
Simplified: the paper's G predicts the flow w_t (supervised by FlowNet2's flow); here the motion is KNOWN (the
digit's displacement d_t = p_t - p_{t-1} on the moving-digit clips, ganengine.data.moving), so W is the exact
integer shift by d_t and G predicts only h_t and m_t: one U-Net (ganengine.models.unet) with C + 1 output channels,
out[:, :C] = h_t (tanh, in [-1, 1]) and m_t = (out[:, C] + 1) / 2 in [0, 1] (a sigmoid of twice the pre-activation,
where the paper applies a sigmoid).

``use_prev`` off: the previous frame is blank and every frame is drawn raw, x~_t = h_t (the paper's frame-by-frame
baseline, one pix2pix per frame).
"""
from __future__ import annotations

import torch


def translate(frames: torch.Tensor, d: torch.Tensor, fill: float = -1.0) -> torch.Tensor:
    """frames (N, C, H, W) moved by d (N, 2) int64 (rows, cols) each; what comes in from outside is `fill` (black)."""
    n, c, h, w = frames.shape
    rows = torch.arange(h, device=frames.device) - d[:, :1]                   # (N, H): the source row of each row
    cols = torch.arange(w, device=frames.device) - d[:, 1:]                   # (N, W)
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]      # (N, H, W)
    out = frames.gather(2, rows.clamp(0, h - 1)[:, None, :, None].expand(n, c, h, w))
    out = out.gather(3, cols.clamp(0, w - 1)[:, None, None, :].expand(n, c, h, w))
    return torch.where(inside[:, None], out, torch.full_like(out, fill))


def rollout(G, condition: torch.Tensor, path: torch.Tensor | None = None, use_prev: bool = True,
            parts: bool = False):
    """condition (B, T, C, H, W) in [-1, 1], path (B, T, 2) int64 (the motion; None = standing still) -> generated
    frames (B, T, C, H, W), frame after frame (module docstring). Each frame keeps its own graph (call under no_grad
    to sample). parts=True also returns the masks m (B, T, 1, H, W) (0 at frame 0 and with use_prev off)."""
    b, t_len, c = condition.shape[:3]
    if path is None:
        path = torch.zeros(b, t_len, 2, dtype=torch.int64, device=condition.device)
    blank = torch.full_like(condition[:, 0], -1.0)                           # (B, C, H, W): no previous frame
    prev_c, warped, frames, masks = blank, blank, [], []
    for t in range(t_len):
        s = condition[:, t]                                                  # (B, C, H, W)
        out = G(torch.cat([s, prev_c, warped], 1))                           # (B, C + 1, H, W)
        h, m = out[:, :c], (out[:, c:c + 1] + 1) / 2                         # raw image, mask in [0, 1]
        if t == 0 or not use_prev:
            f, m = h, torch.zeros_like(m)                                    # drawn raw (no previous frame)
        else:
            f = m * warped + (1 - m) * h                                     # eq. 4: warped past + new drawing
        frames.append(f)
        masks.append(m)
        if use_prev and t + 1 < t_len:
            d = (path[:, t + 1] - path[:, t]).to(condition.device)           # (B, 2): the motion to frame t + 1
            prev_c, warped = s, translate(f.detach(), d)                     # W(x~_t), detached
    x = torch.stack(frames, 1)                                               # (B, T, C, H, W)
    return (x, torch.stack(masks, 1)) if parts else x
