"""The sequential generator of vid2vid (Wang et al. 2018, "Video-to-Video Synthesis", section 3.1, eq. 2): frame t
is made from the current conditioning frame, the previous conditioning frame and the previously GENERATED frame,
  x~_t = F(x~_{t-1}, s_{t-1}, s_t)            (the paper's F with L = 1 past frame; NVIDIA/vid2vid's n_frames_G = 2)
so the generator can carry what it drew before (the stroke fill, the grey levels) into the next frame instead of
inventing it again. The paper's F predicts a flow and an occlusion mask and warps x~_{t-1}; here one U-Net
(ganengine.models.unet, in_channels 3) sees the three maps stacked and draws the frame directly: at 32 px with
motions of 1-2 px its receptive field covers the shift, and it trains in minutes on a CPU.

Before the first frame there is no previous frame: both previous maps are blank (-1, a black canvas), and the same
G draws frame 0 from the condition alone (vid2vid's --no_first_img: G also synthesises the first frame). With
``use_prev`` off the previous maps are always blank: G is a per-frame pix2pix (the paper's frame-by-frame baseline).
The previous frame enters G detached (NVIDIA/vid2vid's max_frames_backpropagate 1): gradients reach G through each
frame's own output only, not back in time.
"""
from __future__ import annotations

import torch


def rollout(G, condition: torch.Tensor, use_prev: bool = True) -> torch.Tensor:
    """condition (B, T, C, H, W) in [-1, 1] -> generated frames (B, T, C, H, W) (frames have the condition's
    channels), frame after frame. Each frame keeps its own graph (call under no_grad to sample)."""
    blank = torch.full_like(condition[:, 0], -1.0)                         # (B, C, H, W): no previous frame
    prev_c, prev_f, frames = blank, blank, []
    for t in range(condition.shape[1]):
        c = condition[:, t]                                                # (B, C, H, W)
        x = torch.cat([c, prev_c, prev_f], 1)                              # (B, 3C, H, W)
        f = G(x)                                                           # (B, C, H, W)
        frames.append(f)
        if use_prev:
            prev_c, prev_f = c, f.detach()                                 # the next frame sees this one
    return torch.stack(frames, 1)                                          # (B, T, C, H, W)
