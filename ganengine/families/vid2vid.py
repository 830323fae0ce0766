"""The vid2vid family (Wang, Liu, Zhu, Liu, Tao, Kautz & Catanzaro 2018, "Video-to-Video Synthesis"; NVIDIA/vid2vid,
imaginaire trainers/vid2vid.py), small enough to train live on a CPU: a sequential G turns a sequence of edge maps
of a moving digit (ganengine.data.moving) into a clip, an image D judges single frames and a temporal D judges
stacks of consecutive frames, so the clip must look right AND move without flicker.

Networks (ganengine.models): G = U-Net on (s_t, s_{t-1}, W(x~_{t-1})) stacked, predicting a raw frame h_t and a
soft mask m_t, x~_t = m_t W(x~_{t-1}) + (1 - m_t) h_t (models/sequential.py: the paper's eq. 2 and 4 with one past
frame; W = the warp by the digit's KNOWN motion where the paper predicts a flow, frame 0 drawn raw);
D = pix2pix's PatchGAN on (s_t, x_t) (the paper's image discriminator D_I, section 3.2, conditioned on the map
as in pix2pixHD); D_T = a PatchGAN on K = 3 consecutive maps and frames stacked as channels (the paper's video
discriminator D_V, which also sees K = 3 frames: NVIDIA/vid2vid's --n_frames_D 3; the paper gives D_V the flow too,
ours sees the frames alone).

One iteration ("both") on a batch of clips of L frames (L = seq_len(step), below):
  x~ = rollout(G, s, path)                             every frame from its map and G's warped previous frame
  D step:  L_D = d(D(s_t, x_t), D(s_t, x~_t))          over all B L frames
               + d(D_T(s_w, x_w), D_T(s_w, x~_w))      over all B (L - 2) windows w of 3 frames, when lambda_T > 0
  G step:  L_G = g(D(s_t, x~_t)) + lambda_T g(D_T(s_w, x~_w)) + lambda_frame mean |x~ - x|
with d, g the loss knob's pair through run.adversarial (each d already halved, as pix2pix's). vid2vid adds the
temporal GAN terms to the image terms at weight 1 (NVIDIA/vid2vid models/vid2vid_model_D.py: loss_G_T_GAN summed
with loss_G_GAN), hence lambda_T's default 1; in place of its feature-matching and VGG losses (weight 10 each, which
need a pretrained VGG) G gets pix2pix's L1 to the real frame (Isola et al. 2017, eq. 4).

Curriculum: vid2vid trains on short clips first and doubles their length every --niter_step epochs up to
--n_frames_total (NVIDIA/vid2vid data/base_dataset.py update_training_batch: n_frames_total * 2^ratio). Here
seq_len(step) = min(CLIP_FRAMES, SEQ_START * 2^(step // SEQ_DOUBLE_EVERY)): 2, 4, then 8 frames, a pure function
of the step, so rewind and resume replay it exactly; it is the scalar "schedule/seq_len", which the app draws on the
loss plot. Clips of 2 frames are too short for D_T's 3-frame windows: the first stage trains G (with its
previous-frame input) against the image D alone, as imaginaire's vid2vid trains a single-frame stage first (its
single_frame_epoch).

Switches (live knobs; presets moving-digits and moving-digits-per-frame): prev_frame 0 gives G blank previous maps
and draws every frame raw (a per-frame pix2pix), lambda_T 0 turns the temporal D off (not trained, not asked). Both
off is the paper's frame-by-frame baseline; flicker is measured by "warp" (ganengine.metrics.video's warp error on
the training clips, every step; 0 for real clips). Measured on held-out clips (bench/VID2VID.md): the warped
previous frame brings the warp error from 0.04-0.07 (frame by frame) to under 0.02; the per-frame digits flicker in
their strokes, rarely in their class. (An earlier G that took the previous frame UN-warped flickered more than the
per-frame baseline.)
Scalars: loss/D (= image + temporal terms), loss/D/image, loss/D/T, loss/G (the total), loss/G/GAN, loss/G/T,
loss/G/L1 (unweighted), D(x), D(G(z))/before, D(G(z))/after (the image D's, patch means), grad/G, grad/D,
schedule/seq_len, warp.
"""
from __future__ import annotations

import numpy as np
import torch

from ganengine.config import VIDEO_TASKS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.models.sequential import rollout
from ganengine.render import image_grid
from ganengine.seeds import DATA, stream

SIDE = 32
K = 3                     # frames per temporal-D window (NVIDIA/vid2vid --n_frames_D 3)
SEQ_START = 2             # training clip length at step 0 (too short for D_T: a single-frame stage first)
SEQ_DOUBLE_EVERY = 100    # steps between doublings: 2 -> 4 -> 8 (bench/VID2VID.md)
SHOWN = (2, 3, 5, 7)      # the views show the first held-out clip of each of these classes


def seq_len(step: int, frames: int) -> int:
    """The curriculum: training clip length at a step (module docstring)."""
    return int(min(frames, SEQ_START * 2 ** (step // SEQ_DOUBLE_EVERY)))


def windows(x: torch.Tensor) -> torch.Tensor:
    """(B, L, C, H, W) -> (B (L - K + 1), K C, H, W): every K consecutive frames stacked as channels."""
    w = x.unfold(1, K, 1)                                                  # (B, L-K+1, C, H, W, K)
    return w.permute(0, 1, 5, 2, 3, 4).flatten(2, 3).flatten(0, 1)


class Vid2VidFamily(Family):
    name = "vid2vid"
    scalars = ("loss/D", "loss/D/image", "loss/D/T", "loss/G", "loss/G/GAN", "loss/G/T", "loss/G/L1", "D(x)",
               "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D", "schedule/seq_len", "warp")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    nets = ("G", "D", "D_T")
    groups = {"G": ("G",), "D": ("D", "D_T")}
    views = ("strip", "clips")
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "G/sample": "G makes a clip frame by frame, from the edge maps and its own previous frames.",
        "D/classify": "An image D scores single frames, a temporal D short runs of frames (Wang et al. 2018).",
        "G/loss": "Besides both Ds' terms, G's frames are pulled to the true frames by an L1 loss.",
    }
    verbs = ("sample",)
    datasets = VIDEO_TASKS
    dataset_labels = (("Moving digits (clips, edges per frame, for vid2vid)", "moving-digits"),)
    latent = False
    KNOBS = {
        # lambda_T: weight of the temporal discriminator's term in G's loss; NVIDIA/vid2vid sums loss_G_T_GAN with
        # the image GAN loss at weight 1 (models/vid2vid_model_D.py). 0 switches D_T off.
        "lambda_T": ("temporal D weight lambda_T (0 = off)", 0, 10, 1.0),
        # prev_frame: 1 = G sees its previous frame and map (vid2vid's sequential G, eq. 2), 0 = blank (per frame).
        "prev_frame": ("previous frame into G (1 = on, 0 = off)", 0, 1, 1.0),
        # lambda_frame: weight of the L1 to the real frame (pix2pix's lambda_L1 = 100, Isola et al. 2017 eq. 4).
        "lambda_frame": ("frame L1 weight", 0, 1000, 100.0),
    }

    def __init__(self, run):
        super().__init__(run)
        held = run.source.held_out(100)                                      # 10 of each class
        self.view_clips = held[torch.stack([torch.nonzero(held.label == c)[0, 0] for c in SHOWN])]

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, VIDEO_TASKS)
        if config.image_size not in (0, SIDE):
            raise ConfigError(f"the moving-digit clips are {SIDE} px; image size must be 0 or {SIDE}")
        if config.depth > 3:
            raise ConfigError("depth (the PatchGAN's strided layers) must be 1 to 3 at 32 px")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("vid2vid: sequential U-Net G + image D + temporal D", "unet")]

    @staticmethod
    def describe(config) -> str:
        return (f"vid2vid: sequential U-Net G (width {config.width}) + image and temporal PatchGAN D "
                f"({config.depth} layers)")

    @staticmethod
    def build_source(config, device):
        from ganengine.data.moving import MovingDigitSource
        return MovingDigitSource(seed=stream(config.seed, DATA), device=device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.patchgan import PatchDiscriminator
        from ganengine.models.unet import UNetGenerator
        c = spec.shape[0]
        return {"G": UNetGenerator(in_channels=3 * c, out_channels=c + 1, image_size=spec.shape[-1],   # h_t, m_t
                                   width=config.width),
                "D": PatchDiscriminator(in_channels=c, out_channels=c, width=config.width, n_layers=config.depth),
                "D_T": PatchDiscriminator(in_channels=K * c, out_channels=K * c, width=config.width,
                                          n_layers=config.depth)}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.moving import CLIP_FRAMES
        from ganengine.data.spec import DataSpec
        return DataSpec(name=config.data, title=config.data, kind="sequence", shape=(1, SIDE, SIDE), num_classes=10,
                        extra={"frames": CLIP_FRAMES})

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        """G = the rollout of batch clips at the full length (the curriculum's last stage), D = the image D on all
        their frames and D_T on all their windows."""
        frames = spec.extra.get("frames", 8)
        s = torch.empty(batch, frames, *spec.shape)                                   # (B, T, 1, 32, 32)
        return (lambda: rollout(nets["G"], s)), \
            (lambda fake: (nets["D"](s.flatten(0, 1), fake.flatten(0, 1)), nets["D_T"](windows(s), windows(fake))))

    # ---- training ---------------------------------------------------------------------------------------------
    def train_step(self, kind: str) -> dict:
        """One iteration on a batch of clips: generate them, a D update, then a G update (module docstring)."""
        run, k = self.run, self.run.knobs
        G, D, D_T = run.nets["G"], run.nets["D"], run.nets["D_T"]
        lam_t = k.get("lambda_T")
        L = seq_len(run.step, run.spec.extra["frames"])
        clips = run.source.sample(k.batch_size, L)                 # s, x: (B, L, 1, 32, 32)
        s, x = clips.condition, clips.frames
        fake = rollout(G, s, clips.path, k.get("prev_frame") > 0.5)  # x~: (B, L, 1, 32, 32), one graph per frame
        s1, x1, f1 = s.flatten(0, 1), x.flatten(0, 1), fake.flatten(0, 1)          # frames: (B L, 1, 32, 32)
        use_t = lam_t > 0 and L >= K
        if use_t:
            sw, xw, fw = windows(s), windows(x), windows(fake)     # windows: (B (L-2), 3, 32, 32)
        out = {"schedule/seq_len": torch.full((), float(L), device=self.run.device)}  # on the device: no copy
        # D step: real frames and windows against the detached fakes
        loss_i, l_r, l_f = run.adversarial.d_loss(lambda im: D(s1, im), x1, f1.detach(), k, run.noise_gen)
        loss_d = loss_i
        if use_t:
            loss_t, _, _ = run.adversarial.d_loss(lambda im: D_T(sw, im), xw, fw.detach(), k, run.noise_gen)
            loss_d = loss_d + loss_t                               # both Ds descend one sum (one optimiser group)
            out["loss/D/T"] = loss_t.detach()
        out["grad/D"] = run.update("D", loss_d)
        l_r, l_f = l_r.detach(), l_f.detach()
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["loss/D/image"] = loss_d.detach(), loss_i.detach()
        out["D(x)"], out["D(G(z))/before"] = torch.sigmoid(l_r).mean(), torch.sigmoid(l_f).mean()
        # G step with both Ds frozen: fool D on every frame, D_T on every window, stay near the real frames
        with run.frozen("D"):
            l_g = D(s1, f1)
            gan = run.adversarial.g_loss(l_g, k)
            loss = gan + k.get("lambda_frame") * (l1 := (fake - x).abs().mean())
            if use_t:
                gan_t = run.adversarial.g_loss(D_T(sw, fw), k)
                loss = loss + lam_t * gan_t
                out["loss/G/T"] = gan_t.detach()
        out["grad/G"] = run.update("G", loss)                      # descend L_G in G's weights (then EMA)
        out["loss/G"], out["loss/G/GAN"], out["loss/G/L1"] = loss.detach(), gan.detach(), l1.detach()
        out["D(G(z))/after"] = torch.sigmoid(l_g.detach()).mean()
        from ganengine.metrics.video import warp_error
        out["warp"] = warp_error(fake.detach(), clips.path).mean()  # flicker of this batch (0 for real clips)
        return out

    # ---- views, metrics -----------------------------------------------------------------------------------------
    def render(self) -> dict:
        return self._views(self.run.sampler())

    def render_job(self):
        G, use_prev = frozen_copy(self.run.sampler()), self.run.knobs.get("prev_frame") > 0.5
        return lambda: self._views(G, use_prev)

    @torch.no_grad()
    def _views(self, G, use_prev=None) -> dict:
        """strip: for 4 held-out clips (digits 2, 3, 5, 7), rows edges · real · generated, one column a frame; clips:
        the same as an animation (T frames: per clip edges | real | generated side by side, one clip a row)."""
        use_prev = self.run.knobs.get("prev_frame") > 0.5 if use_prev is None else use_prev
        c = self.view_clips
        device = next(G.parameters()).device
        with eval_mode(G):
            fake = rollout(G, c.condition.to(device), c.path, use_prev).float().cpu()  # (4, T, 1, 32, 32)
        rows = torch.stack([c.condition, c.frames, fake], 1).flatten(0, 1)           # (12, T, 1, 32, 32)
        strip = image_grid(rows.flatten(0, 1).numpy(), nrow=rows.shape[1])
        per_t = torch.stack([c.condition, c.frames, fake], 2)                        # (4, T, 3, 1, 32, 32)
        clips = np.stack([image_grid(per_t[:, t].flatten(0, 1).numpy(), nrow=3, scale=3)
                          for t in range(per_t.shape[1])])                            # (T, H, W, 3) uint8
        return {"strip": strip, "clips": clips}

    def caption(self, view: str) -> str:
        if view == "clips":
            return ("Four held-out clips playing, one a row: edges (G's input) · the real clip · G's clip. "
                    "G draws frame 0 from the edges, then carries it: each frame blends the previous one, moved by "
                    "the motion, with a new drawing (vid2vid's warp and mask). With the previous frame off each "
                    "frame is drawn anew, and strokes change from frame to frame (flicker: bench/VID2VID.md)")
        return ("Frame strip of four held-out clips (digits 2, 3, 5, 7, never trained on), one column a frame: rows "
                "edges · real · generated for each clip")

    def quality_job(self, n: int):
        """ganengine.metrics.video's report on the first 50 held-out clips, from a frozen copy of G."""
        G, use_prev = frozen_copy(self.run.sampler()).cpu(), self.run.knobs.get("prev_frame") > 0.5
        clips = self.run.source.held_out(50)
        return lambda: video_report(G, clips, use_prev)

    # ---- the CLI's verbs, and rendering a clip for a path (the app's Explore) -------------------------------------
    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the quality job's metrics of a checkpoint's G (EMA when saved) on the first n (<= 500) held-out
        clips."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.moving import held_out_clips
        G, config, _ = generator_from_checkpoint(ckpt)
        use_prev = _knob(ckpt, "prev_frame") > 0.5
        return {"task": config.data, **video_report(G, held_out_clips(max(1, min(n, 500))), use_prev)}

    @staticmethod
    def sample_clips(ckpt: dict, *, n: int, seed: int) -> dict:
        """`sample`: n held-out digits (drawn without replacement with the seed) on fresh paths (the seed's too),
        through the checkpoint's G: float32 clips and condition (N, T, 1, 32, 32) in [-1, 1], real (the true clips),
        int64 label (N,) and path (N, T, 2) (the tile's top-left corner per frame)."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.moving import CLIP_FRAMES, bounce_paths, load_tiles, make_clips
        if not 1 <= n <= 500:
            raise ConfigError("--n must be 1 to 500 clips (the held-out digits)")
        G, _, _ = generator_from_checkpoint(ckpt)
        data, g = load_tiles(), torch.Generator().manual_seed(seed)
        idx = data["test"][torch.randperm(len(data["test"]), generator=g)[:n]]
        clips = make_clips(data["tiles"][idx], data["edges"][idx], data["label"][idx], bounce_paths(n, CLIP_FRAMES, g))
        with torch.no_grad():
            fake = rollout(G, clips.condition, clips.path, _knob(ckpt, "prev_frame") > 0.5)
        return {"clips": fake.numpy().astype(np.float32), "condition": clips.condition.numpy().astype(np.float32),
                "real": clips.frames.numpy().astype(np.float32), "label": clips.label.numpy().astype(np.int64),
                "path": clips.path.numpy().astype(np.int64)}

    @staticmethod
    @torch.no_grad()
    def render_path(G, digit: torch.Tensor, path: torch.Tensor, use_prev: bool = True) -> dict:
        """A clip for a path of one's choosing (the app's Explore: pick or draw a path): digit uint8 (1, 20, 20) (a
        tile of ganengine.data.moving.load_tiles, e.g. a held-out one), path int64 (T, 2) tile positions in 0..12
        (steps of any size: ConfigError outside the canvas). Returns condition, real, generated float
        (T, 1, 32, 32) in [-1, 1]."""
        from ganengine.data.moving import ROOM, edge_patches, make_clips
        if path.ndim != 2 or path.shape[1] != 2 or not 1 <= len(path) <= 64:
            raise ConfigError("a path is 1 to 64 positions (row, column)")
        if int(path.min()) < 0 or int(path.max()) > ROOM:
            raise ConfigError(f"a path's positions must stay on the canvas: rows and columns 0 to {ROOM}")
        clips = make_clips(digit[None], edge_patches(digit[None]), torch.zeros(1, dtype=torch.int64), path[None])
        device = next(G.parameters()).device
        fake = rollout(G, clips.condition.to(device), clips.path, use_prev).float().cpu()
        return {"condition": clips.condition[0], "real": clips.frames[0], "generated": fake[0]}


def _knob(ckpt: dict, name: str) -> float:
    """A family knob saved with a checkpoint (its default when the file has none)."""
    knobs = ckpt.get("_knobs")
    try:
        return float(knobs.get(name))
    except Exception:                                                           # noqa: BLE001
        return float(Vid2VidFamily.KNOBS[name][3])


@torch.no_grad()
def video_report(G, clips, use_prev: bool) -> dict:
    """G's clips for held-out ones, measured by ganengine.metrics.video.clip_report."""
    from ganengine.metrics.video import clip_report
    fake = torch.cat([rollout(G, s, p, use_prev) for s, p in zip(clips.condition.split(100), clips.path.split(100))])
    return {**clip_report(fake, clips.frames, clips.label, clips.path), "prev_frame": bool(use_prev)}
