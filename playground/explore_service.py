"""What the Explore tab does, as plain methods keyed by a session id (no Gradio here).

A source is a frozen generator in eval mode: a copy of the visitor's live run (exploring never disturbs training), a
bundled pretrained one (assets/pretrained, shared read-only by all visitors), or a checkpoint the visitor uploaded
(read with weights_only=True and checked shape by shape). Latent edits are offsets in units of sigma along
8 directions: the first 4 latent dimensions and the top 4 SeFa directions (ganengine.latents).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ganengine.checkpoint import CheckpointError, generator_from_checkpoint, read_checkpoint
from ganengine.families import family_class
from ganengine.latents import angle_degrees, interpolation_path, latent_for_seed, sefa_directions
from ganengine.models import is_conditional
from ganengine.render import FAKE_RGB, gif_bytes, image_grid, scatter_image
from playground.path_explore import path_clip, renders_paths
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.visitor_files import replace_export

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "assets" / "pretrained"
PRETRAINED = {"pretrained:dcgan-digits": ("Pretrained DCGAN digits (bundled)", "dcgan_digits.pt"),
              "pretrained:cgan-digits": ("Pretrained conditional digits: pick the digit (bundled)", "cgan_digits.pt")}
N_DIMS, N_SEFA = 4, 4
N_SLIDERS = N_DIMS + N_SEFA
IMAGE_SIDE = 256        # rendered images are upscaled (nearest) to about this many pixels
MAX_SEED = 2**31 - 1
MAX_FRAMES = 48
MAX_OFFSET = 3.0        # the sliders' range, in sigma; API offsets are clamped to it


@dataclass
class Source:
    name: str
    title: str
    G: torch.nn.Module
    config: object
    spec: object
    directions: torch.Tensor     # (N_SLIDERS, latent_dim): unit vectors
    sefa_strength: list
    cloud: Optional[np.ndarray] = None   # 2-D sources: a background sample of G's output

    @property
    def conditional(self) -> bool:
        return is_conditional(self.G)

    @property
    def paths(self) -> bool:
        """G renders a clip along a path (vid2vid; playground/path_explore.py), not an image from a latent z."""
        return renders_paths(self.config)


def make_source(name: str, title: str, G, config, spec) -> Source:
    d = config.latent_dim
    if renders_paths(config):                               # no latent z: no directions to find (path_explore.py)
        return Source(name=name, title=title, G=G, config=config, spec=spec,
                      directions=torch.zeros(N_SLIDERS, d), sefa_strength=[])
    dims = torch.eye(d)[: min(N_DIMS, d)]
    sefa, strength = sefa_directions(G, d, k=min(N_SEFA, d))
    directions = torch.zeros(N_SLIDERS, d)
    directions[: len(dims)] = dims
    directions[N_DIMS: N_DIMS + len(sefa)] = sefa
    src = Source(name=name, title=title, G=G, config=config, spec=spec, directions=directions,
                 sefa_strength=[float(s) for s in strength])
    if spec.is_points:
        with torch.no_grad():
            z = torch.randn(1500, d, generator=torch.Generator().manual_seed(0))
            src.cloud = G(z).float().numpy()
    return src


def not_a_sampler(family) -> str:
    """Why Explore cannot draw from a family whose G takes an image, not a latent z (pix2pix, CycleGAN)."""
    where = " Try it in the Translate tab." if "translate" in family.verbs else ""
    return f"⚠ A {family.name} generator turns an image into an image; it does not draw from a latent z.{where}"


def clean_seed(seed) -> int:
    try:
        if isinstance(seed, bool):
            raise TypeError
        value = int(float(seed))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}") from None
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}")
    return value


def clean_label(label, num_classes: int) -> int:
    """The class to draw: a whole number from 0 to num_classes - 1 (None or "" means 0)."""
    if label is None or label == "":
        return 0
    try:
        if isinstance(label, bool):
            raise TypeError
        f = float(label)
        value = int(f)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"the digit must be a whole number from 0 to {num_classes - 1}") from None
    if f != value or not 0 <= value < num_classes:
        raise ValueError(f"the digit must be a whole number from 0 to {num_classes - 1}")
    return value


def clean_unit(t) -> float:
    """An interpolation position: a finite number in [0, 1] (clamped)."""
    try:
        if isinstance(t, bool):
            raise TypeError
        f = float(t)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("t must be a number from 0 to 1") from None
    if not math.isfinite(f):
        raise ValueError("t must be a number from 0 to 1")
    return min(1.0, max(0.0, f))


def clean_frames(frames) -> int:
    try:
        if isinstance(frames, bool):
            raise TypeError
        f = float(frames)
        if not math.isfinite(f):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"frames must be a whole number from 2 to {MAX_FRAMES}") from None
    return int(min(MAX_FRAMES, max(2, int(f))))


def clean_offsets(offsets) -> torch.Tensor:
    """Up to N_SLIDERS numbers, each clamped to the sliders' [-3, 3] sigma (before float32, where 1e300 would become
    inf); more than N_SLIDERS, bools, NaN, infinities and non-numbers are refused."""
    if offsets is not None and not isinstance(offsets, (list, tuple)):
        raise ValueError(f"the latent offsets must be a list of at most {N_SLIDERS} numbers")
    if offsets is not None and len(offsets) > N_SLIDERS:
        raise ValueError(f"the latent offsets must be a list of at most {N_SLIDERS} numbers")
    if any(isinstance(v, bool) for v in offsets or []):
        raise ValueError("the latent sliders must be numbers")
    values = list(offsets or [])[:N_SLIDERS]
    values += [0.0] * (N_SLIDERS - len(values))
    try:
        floats = [float(v if v is not None else 0.0) for v in values]
    except (TypeError, ValueError):
        raise ValueError("the latent sliders must be numbers") from None
    if not all(math.isfinite(v) for v in floats):
        raise ValueError("the latent sliders must be finite numbers")
    return torch.tensor([min(MAX_OFFSET, max(-MAX_OFFSET, v)) for v in floats])


class ExploreService:
    def __init__(self, *, registry: SessionRegistry, settings: Settings):
        self.registry, self.settings = registry, settings
        self._pretrained: dict[str, Source] = {}
        self._lock = threading.Lock()

    # ---- sources ---------------------------------------------------------------------------------------------
    def source_choices(self) -> list[tuple[str, str]]:
        choices = [(title, key) for key, (title, file) in PRETRAINED.items() if (PRETRAINED_DIR / file).is_file()]
        return choices + [("Your live run (a copy of its generator)", "live"), ("A checkpoint you upload", "upload")]

    def pretrained(self, key: str) -> Source:
        with self._lock:
            if key not in self._pretrained:
                title, file = PRETRAINED[key]
                G, config, spec = generator_from_checkpoint(read_checkpoint(PRETRAINED_DIR / file))
                self._pretrained[key] = make_source(key, title, G, config, spec)
            return self._pretrained[key]

    def select(self, sid: str, key: str) -> tuple[Optional[Source], str]:
        """Make a source current for the visitor. Returns (source or None, message). A source that cannot be had
        (no live run yet) leaves none current, so the page draws no picture rather than the last generator's
        (seen in the issue-15 Chromium pass: "Your live run" showed the pretrained digit under "No live run yet")."""
        src, message = self._select(sid, key)
        explore = self.registry.session(sid).explore
        if src is None:
            explore["source"], explore["missing"] = None, message
        else:
            explore.pop("missing", None)
        return src, message

    def _select(self, sid: str, key: str) -> tuple[Optional[Source], str]:
        s = self.registry.session(sid)
        if key in PRETRAINED:
            try:
                src = self.pretrained(key)
            except (CheckpointError, FileNotFoundError, OSError) as err:
                return None, f"⚠ the bundled generator could not be loaded: {err}"
        elif key == "live":
            trainer = s.live_trainer
            if trainer is None:
                return None, "⚠ No live run yet: start one in the Train tab, then come back."
            family = family_class(trainer.snapshot().config.family)
            if "sample" not in family.verbs:
                return None, not_a_sampler(family)
            G, config, spec = trainer.generator_copy()
            step = trainer.snapshot().step
            src = make_source("live", f"Your live run at step {step:,} (a frozen copy)", G.cpu(), config, spec)
        elif key == "upload":
            src = s.explore.get("upload")
            if src is None:
                return None, "Upload a checkpoint (.pt) from the Train tab or the CLI."
        else:
            return None, f"⚠ unknown source {key!r}"
        s.explore["source"] = src
        return src, f"Exploring: {src.title}."

    def upload(self, sid: str, path: Optional[str]) -> tuple[Optional[Source], str]:
        if not path:
            return None, "No file."
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError:
            return None, "⚠ the upload could not be read"
        if size > self.settings.max_upload_bytes:
            return None, f"⚠ the file is {size / 2**20:.1f} MiB; uploads are limited to {self.settings.max_upload_mb} MiB"
        try:
            ckpt = read_checkpoint(p.read_bytes(), max_bytes=self.settings.max_upload_bytes)
            family = family_class(ckpt["_config"].family)
            if "sample" not in family.verbs:
                return None, not_a_sampler(family)
            G, config, spec = generator_from_checkpoint(ckpt)
        except CheckpointError as err:
            return None, f"⚠ {err}"
        src = make_source("upload", f"Your checkpoint ({config.model} on {spec.title}, step {int(ckpt['step']):,})",
                          G, config, spec)
        s = self.registry.session(sid)
        s.explore["upload"] = src
        s.explore["source"] = src
        s.explore.pop("missing", None)
        return src, f"Loaded: {src.title}."

    def current(self, sid: str) -> Source:
        s = self.registry.session(sid)
        src = s.explore.get("source")
        if src is None and s.explore.get("missing"):
            raise ValueError(s.explore["missing"].lstrip("⚠ "))
        if src is None:
            keys = [k for _, k in self.source_choices() if k in PRETRAINED]
            if not keys:
                raise ValueError("no generator: start a run in the Train tab or upload a checkpoint")
            src = self.pretrained(keys[0])
            s.explore["source"] = src
        return src

    def latent_source(self, sid: str) -> Source:
        """The current source when it draws from a latent z; ValueError (a sentence) when it renders paths."""
        src = self.current(sid)
        if src.paths:
            raise ValueError("this generator turns a path into a clip, not a latent z into an image: see "
                             "'A digit along a path' below")
        return src

    def path_clip(self, sid: str, digit, example, path_name, frames, drawing=None) -> tuple[np.ndarray, str]:
        """(frames (T, H, W, 3), caption) of the current path-rendering source (playground/path_explore.py);
        drawing: the path canvas's value (ink = opaque dark pixels). ValueError with one sentence otherwise."""
        src = self.current(sid)
        if not src.paths:
            raise ValueError("pick a vid2vid generator above (your live run or its checkpoint) to render a clip "
                             "along a path")
        ink = None
        if path_name == "drawn" and drawing is not None:
            from playground.sketch_input import editor_image
            img = editor_image(drawing)
            if img is not None:
                if img.ndim != 3 or img.shape[-1] != 4 or img.shape[0] != img.shape[1]:
                    raise ValueError("the path drawing must be the square canvas's RGBA image")
                ink = (img[..., 3] > 127) & (img[..., :3].mean(-1) < 128)         # opaque dark strokes
        return path_clip(src.G, src.config, digit, example, path_name, frames, ink)

    # ---- rendering -------------------------------------------------------------------------------------------
    def latent(self, src: Source, seed, offsets) -> torch.Tensor:
        z = latent_for_seed(clean_seed(seed), src.config.latent_dim)
        return z + clean_offsets(offsets) @ src.directions

    @torch.no_grad()
    def _draw(self, src: Source, z: torch.Tensor, labels: Optional[torch.Tensor]) -> np.ndarray:
        """z (B, d) -> samples (B, ...) as numpy, in data space."""
        y = labels if src.conditional else None
        if src.conditional and y is None:
            y = torch.zeros(len(z), dtype=torch.int64)
        return family_class(src.config.family).draw_latents(src.G, z, y).float().numpy()  # CoGAN: a pair per z

    def _picture(self, src: Source, x: np.ndarray, nrow: int = 8) -> np.ndarray:
        if src.spec.is_points:
            img = scatter_image(None, src.cloud, src.spec.bounds, size=IMAGE_SIDE + 64)
            return mark_points(img, x, src.spec.bounds)
        side = x.shape[-1]
        scale = max(1, IMAGE_SIDE // side) if len(x) == 1 else max(1, 96 // side)
        return image_grid(x, nrow=nrow, pad=0 if len(x) == 1 else 2, scale=scale)

    def render(self, sid: str, seed, offsets, label=None) -> tuple[np.ndarray, str]:
        src = self.latent_source(sid)
        z = self.latent(src, seed, offsets)[None]
        labels = self._labels(src, label, 1)
        x = self._draw(src, z, labels)
        what = f"digit {int(labels[0])}, " if src.conditional else ""
        return self._picture(src, x), f"{what}seed {clean_seed(seed)}, |z| = {float(z.norm()):.2f}"

    def _labels(self, src: Source, label, n: int) -> Optional[torch.Tensor]:
        if not src.conditional:
            return None
        return torch.full((n,), clean_label(label, src.spec.num_classes), dtype=torch.int64)

    def class_strip(self, sid: str, seed, offsets) -> Optional[np.ndarray]:
        """One latent drawn as every class (conditional sources); None otherwise."""
        src = self.latent_source(sid)
        if not src.conditional:
            return None
        k = src.spec.num_classes
        z = self.latent(src, seed, offsets)[None].expand(k, -1)
        return self._picture(src, self._draw(src, z, torch.arange(k)), nrow=k)

    def interpolate(self, sid: str, seed_a, seed_b, method: str, t, frames, label=None):
        """(image at t, strip of frames from A to B, caption)."""
        src = self.latent_source(sid)
        method = method if method in ("lerp", "slerp") else "slerp"
        a = latent_for_seed(clean_seed(seed_a), src.config.latent_dim)
        b = latent_for_seed(clean_seed(seed_b), src.config.latent_dim)
        t, n = clean_unit(t), clean_frames(frames)
        z_t = _at(a, b, t, method)
        labels = self._labels(src, label, 1)
        at_t = self._picture(src, self._draw(src, z_t[None], labels))
        path = interpolation_path(a, b, n, method)
        strip_labels = self._labels(src, label, n)
        strip = self._picture(src, self._draw(src, path, strip_labels), nrow=min(n, 12))
        caption = (f"{method} from seed {clean_seed(seed_a)} to {clean_seed(seed_b)}: angle "
                   f"{angle_degrees(a, b):.0f}°, |z(t)| = {float(z_t.norm()):.2f} at t = {t:.2f}")
        return at_t, strip, caption

    def interpolation_gif(self, sid: str, seed_a, seed_b, method: str, frames, label=None) -> str:
        src = self.latent_source(sid)
        a = latent_for_seed(clean_seed(seed_a), src.config.latent_dim)
        b = latent_for_seed(clean_seed(seed_b), src.config.latent_dim)
        n = clean_frames(frames)
        method = method if method in ("lerp", "slerp") else "slerp"   # also keeps visitor text out of the file name
        path = interpolation_path(a, b, n, method)
        x = self._draw(src, path, self._labels(src, label, n))
        pictures = [self._picture(src, x[i:i + 1]) for i in range(n)]
        name = f"interpolation-{clean_seed(seed_a)}-{clean_seed(seed_b)}-{method}.gif"
        out = replace_export(self.registry.session(sid), "interp-gif", name,
                             gif_bytes(pictures + pictures[::-1][1:-1], duration_ms=90))
        return str(out)


def _at(a: torch.Tensor, b: torch.Tensor, t: float, method: str) -> torch.Tensor:
    from ganengine.latents import lerp, slerp
    return (slerp if method == "slerp" else lerp)(a, b, t)


def mark_points(img: np.ndarray, points: np.ndarray, bounds: tuple, radius: int = 7) -> np.ndarray:
    """Draw each 2-D point as a filled purple disc with a dark rim on a scatter image."""
    img = img.copy()
    size = img.shape[0]
    xmin, xmax, ymin, ymax = bounds
    yy, xx = np.mgrid[:size, :size]
    for p in np.asarray(points, dtype=np.float64).reshape(-1, 2):
        if not np.isfinite(p).all():
            continue
        c = (p[0] - xmin) / (xmax - xmin) * (size - 1)
        r = (ymax - p[1]) / (ymax - ymin) * (size - 1)
        d2 = (xx - c) ** 2 + (yy - r) ** 2
        img[d2 <= radius ** 2] = (60, 20, 70)
        img[d2 <= (radius - 2) ** 2] = FAKE_RGB
    return img
