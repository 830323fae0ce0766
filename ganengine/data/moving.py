"""Moving digits: Moving-MNIST-style clips made in code from the 5,000 bundled digits, with a per-frame conditioning
sequence, for the vid2vid family (Wang et al. 2018, "Video-to-Video Synthesis").

Moving MNIST (Srivastava, Mansimov & Salakhutdinov 2015, section 3) bounces digits inside a 64 px canvas; here one
digit moves in a 32 px canvas, so the bundled classifier can read every frame and the true motion is known:
  tile      the central 20 x 20 of the 28 x 28 digit (MNIST's normalisation fits every digit in a 20 x 20 box and
            centres its mass in the 28 x 28 image, LeCun et al. 1998)
  position  p_0 uniform on {0..12}^2 (the tile's top-left corner; 32 - 20 = 12), velocity v uniform on
            {-2, -1, 1, 2}^2 px per frame; p_t = p_{t-1} + v, reflected at the walls (p -> -p below 0, 24 - p above
            12, and that axis of v flips): a bounce, as Moving MNIST's
  frame t   the tile pasted at p_t on a black canvas: frame_t = shift(frame_{t-1}, p_t - p_{t-1}) exactly (nothing
            leaves the canvas), which is what ganengine.metrics.video's warp error uses
  condition the digit's edges, Canny-style (ganengine.data.paired.canny_edges: the edges2digits input), computed
            once per digit on its tile with a 4 px margin (28 x 28, as MNIST) and moved with it, one map per frame
            (the margin beyond the canvas cut off, so near a wall a few edge pixels come and go): vid2vid's
            "semantic map" sequence. The digit's identity is in the edges; its grey levels and stroke fill are
            not, so a per-frame generator may fill them differently from frame to frame (flicker).
Clips are CLIP_FRAMES long; training asks for a prefix (vid2vid's curriculum, ganengine.families.vid2vid).

Split: the 500 digits the pix2pix tasks hold out (50 per class, never seen by the bundled classifier either;
ganengine.data.paired.held_out_indices) make the held-out clips, each with a motion drawn from a fixed generator
(seed HELD_OUT_SEED), identical in every run; training clips use the other 4,500 digits, in a seeded epoch order,
with motions from the source's own generator. Both are part of get_state, so rewind and resume replay the clips.
"""
from __future__ import annotations

import torch

from ganengine.data.images import load_bundled_mnist
from ganengine.data.order import EpochOrder
from ganengine.data.paired import canny_edges, held_out_indices
from ganengine.data.spec import DataSpec

TASK = "moving-digits"
SIDE = 32                 # canvas side
TILE = 20                 # the digit's tile (MNIST's 20 x 20 box)
ROOM = SIDE - TILE        # positions 0..12 on each axis
SPEEDS = (-2, -1, 1, 2)   # px per frame on each axis
MARGIN = 4                # edge patches: the tile with 4 px around it (28 x 28)
CLIP_FRAMES = 8           # frames per clip (views, metrics, sampling); training uses a prefix
HELD_OUT_SEED = 0


def digit_tiles(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) digits -> uint8 (N, 1, 20, 20): the central 20 x 20 (MNIST centres each digit's mass
    in its 28 x 28 image; the crop keeps 96.6% of the ink on average and the bundled classifier reads 98.5% of the
    cropped digits, re-padded to 28, right: measured on the 5,000 bundled digits)."""
    m = (images.shape[-1] - TILE) // 2
    return images[..., m:m + TILE, m:m + TILE].clone()


def bounce_paths(n: int, frames: int, generator: torch.Generator) -> torch.Tensor:
    """int64 (n, frames, 2) tile positions (row, col): a uniform start, a uniform velocity from SPEEDS per axis,
    reflected at 0 and ROOM (module docstring)."""
    p = torch.randint(ROOM + 1, (n, 2), generator=generator)                                 # (n, 2)
    v = torch.tensor(SPEEDS)[torch.randint(len(SPEEDS), (n, 2), generator=generator)]       # (n, 2)
    path = [p]
    for _ in range(frames - 1):
        p = p + v
        low, high = p < 0, p > ROOM
        p = torch.where(low, -p, torch.where(high, 2 * ROOM - p, p))                        # reflect at the walls
        v = torch.where(low | high, -v, v)                                                   # and turn round
        path.append(p)
    return torch.stack(path, 1)


def render_clips(tiles: torch.Tensor, paths: torch.Tensor, margin: int = 0) -> torch.Tensor:
    """uint8 tiles (n, 1, 20 + 2 margin, 20 + 2 margin) and tile positions (n, T, 2) -> uint8 frames
    (n, T, 1, 32, 32): each tile pasted with its tile part at the position on a black canvas (a margin beyond
    the canvas is cut off)."""
    n, t = paths.shape[:2]
    side, big = tiles.shape[-1], SIDE + 2 * margin
    canvas = torch.zeros(n * t, big, big, dtype=torch.uint8)                                # the canvas + margins
    p = paths.reshape(n * t, 2)
    rows = p[:, :1] + torch.arange(side)                                                     # (n t, side)
    cols = p[:, 1:] + torch.arange(side)                                                     # (n t, side)
    which = torch.arange(n * t)[:, None, None]
    canvas[which, rows[:, :, None], cols[:, None, :]] = tiles[:, 0].repeat_interleave(t, 0)  # (n t, side, side)
    return canvas[:, margin:margin + SIDE, margin:margin + SIDE].reshape(n, t, 1, SIDE, SIDE)


def edge_patches(tiles: torch.Tensor) -> torch.Tensor:
    """uint8 tiles (N, 1, 20, 20) -> uint8 edge maps (N, 1, 28, 28) of the tiles with a 4 px margin (255 on an
    edge)."""
    padded = torch.nn.functional.pad(tiles, (MARGIN,) * 4).float() / 255
    return canny_edges(padded).to(torch.uint8) * 255


def to_unit(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 127.5 - 1.0


class Clips:
    """A batch of clips: condition, frames (n, T, 1, 32, 32) float in [-1, 1], label (n,), path (n, T, 2) int64."""

    def __init__(self, condition, frames, label, path):
        self.condition, self.frames, self.label, self.path = condition, frames, label, path

    def to(self, device, non_blocking: bool = False):
        return Clips(*(t.to(device, non_blocking=non_blocking) for t in (self.condition, self.frames, self.label,
                                                                          self.path)))

    def __getitem__(self, idx):
        return Clips(self.condition[idx], self.frames[idx], self.label[idx], self.path[idx])

    def __len__(self):
        return len(self.label)


def make_clips(tiles: torch.Tensor, edges: torch.Tensor, label: torch.Tensor, paths: torch.Tensor) -> Clips:
    """Clips of tiles (n, 1, 20, 20) with their edge patches (n, 1, 28, 28) moving along paths (n, T, 2)."""
    frames = render_clips(tiles, paths)
    return Clips(to_unit(render_clips(edges, paths, MARGIN)), to_unit(frames), label, paths)


_CACHE: dict = {}


def load_tiles() -> dict:
    """uint8 'tiles' (5000, 1, 20, 20), their 'edges' (5000, 1, 28, 28), int64 'label', and the split: 'train'
    (4,500), 'test' (500) indices.
    Made once per process; index the tensors (a copy) rather than writing into them."""
    if "tiles" not in _CACHE:
        images, labels = load_bundled_mnist()
        test = torch.from_numpy(held_out_indices(labels.numpy()))
        keep = torch.ones(len(labels), dtype=torch.bool)
        keep[test] = False
        tiles = digit_tiles(images)
        _CACHE["tiles"] = {"tiles": tiles, "edges": edge_patches(tiles), "label": labels,
                           "train": torch.nonzero(keep).squeeze(1), "test": test}
    return dict(_CACHE["tiles"])


def held_out_clips(n: int | None = None, frames: int = CLIP_FRAMES) -> Clips:
    """The first n (default all 500) held-out clips, identical in every run: the held-out digits class after class
    (0, 1, ..., 9, 0, 1, ...: any first 10 k hold k of each class), moving along paths from a generator seeded
    HELD_OUT_SEED."""
    data = load_tiles()
    test = data["test"]
    by_class = [test[data["label"][test] == c] for c in range(10)]                         # 50 each
    idx = torch.stack(by_class, 1).flatten()                                                # (500,) interleaved
    paths = bounce_paths(len(idx), frames, torch.Generator().manual_seed(HELD_OUT_SEED))
    n = len(idx) if n is None else n
    return make_clips(data["tiles"][idx[:n]], data["edges"][idx[:n]], data["label"][idx[:n]], paths[:n])


class MovingDigitSource:
    """Training clips of the 4,500 training digits; the 500 held-out clips apart."""

    def __init__(self, *, seed: int, device="cpu"):
        data = load_tiles()
        self.device = device
        train = data["train"]
        self.tiles, self.edges, self.labels = data["tiles"][train], data["edges"][train], data["label"][train]
        self.spec = DataSpec(name=TASK, title="Moving digits (clips of the bundled digits, edges per frame)",
                             kind="sequence", shape=(1, SIDE, SIDE), num_classes=10,
                             class_names=tuple(str(d) for d in range(10)), size=len(self.labels),
                             source="assets/mnist5k.npz (LeCun, Cortes, Burges; CC BY-SA 3.0), clips made offline",
                             extra={"frames": CLIP_FRAMES, "held_out": len(data["test"])})
        self.order = EpochOrder(len(self.labels), seed, "training digits")
        self.motion = torch.Generator().manual_seed(seed)
        self._held_out: dict = {}

    def sample(self, n: int, frames: int = CLIP_FRAMES) -> Clips:
        """n training clips of `frames` frames (the next n digits of the epoch order, fresh motions)."""
        idx = self.order.take(n)
        paths = bounce_paths(n, frames, self.motion)
        return make_clips(self.tiles[idx], self.edges[idx], self.labels[idx], paths).to(self.device, non_blocking=True)

    def held_out(self, n: int | None = None) -> Clips:
        """The first n (default all 500) held-out clips (made on first use, then kept)."""
        n = self.spec.extra["held_out"] if n is None else n
        if n not in self._held_out:
            self._held_out[n] = held_out_clips(n)
        return self._held_out[n]

    def get_state(self) -> dict:
        """Two named parts, as ganengine.checkpoint expects of a source with several streams: the digit order and
        the motion generator."""
        return {"order": self.order.get_state(), "motion": {"generator": self.motion.get_state()}}

    def set_state(self, state: dict) -> None:
        """Restore a get_state(); ValueError if the order is not one of these training digits."""
        motion = state["motion"]["generator"]
        if not isinstance(motion, torch.Tensor) or motion.dtype != torch.uint8 or \
                motion.shape != self.motion.get_state().shape:
            raise ValueError("the saved motion generator state is not a CPU generator's state")
        self.order.set_state(state["order"])
        self.motion.set_state(motion)
