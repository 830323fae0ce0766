"""What the Translate tab does, as plain methods keyed by a session id (no Gradio here).

pix2pix (Isola et al. 2017) learns a generator G that translates an input image a into an output G(a); trained on
edges2digits, a is a digit's edge map and G(a) the digit. Here a visitor's own drawing is the input, and G is the
LIVE generator of their run (its EMA copy when EMA is on), so the output follows the training step by step; or G
comes from a checkpoint they upload (read with weights_only=True and checked shape by shape, as in Explore).

Sources (the ``key`` of every method):
  live    the visitor's trainer, when its family translates ("translate" in family.verbs). The run lock is taken
          for one forward pass only (``trainer.with_run()``: a few ms, between two training steps).
  upload  a checkpoint of a translating family, kept per visitor as a frozen eval-mode G.

A drawing becomes G's input like the training edge maps (ganengine/data/paired.py: white 1-px Canny edges on black,
a 20 px digit centred in 32 px), by ``sketch_to_input``:
  1. grey levels (ITU-R 601 luma, as PIL's "L"); transparent pixels are white paper;
  2. ink = the light strokes of a dark image, or the dark strokes of a light one (inverted; the CLI's rule);
  3. fit=True: the ink's bounding box is scaled to fit MNIST's 20 px box, keeping its aspect ratio, and placed so its
     centre of mass is at the centre (LeCun et al., the MNIST page: "size normalized to fit in a 20x20 pixel box ...
     centered in a 28x28 image by computing the center of mass"; paired.py pads 28 -> 32 around it);
     fit=False: the central square, whole;
  4. resized with antialiasing (area averaging when shrinking), scaled to [-1, 1].
The canvas is CANVAS px for 32 px inputs (8x) and its brush is BRUSH_RADIUS px: Gradio's brush size is a radius, so
a stroke is 9 px wide on the canvas, about 1 px at 32 px, as wide as the edges G was trained on. Measured with an
edges2digits G after 420 steps: 5 px strokes turn into blobs and 15 px ones into faint skeletons, 9 px into digits.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.checkpoint import CheckpointError, generator_from_checkpoint, read_checkpoint
from ganengine.config import ConfigError
from ganengine.families import family_class
from ganengine.render import image_grid
from playground.sessions import SessionRegistry
from playground.settings import Settings

CANVAS = 256              # the drawing canvas's side in px: 8 x 32; an RGBA PNG of it is at most ~263 KB
BRUSH_RADIUS = 4          # Gradio's Brush.default_size is a radius: 2 * 4 + 1 = 9 px wide, ~1.1 px at 32 px
ERASER_RADIUS = 12
SHOW_SCALE = 8            # 32 px images are shown 8x larger, nearest-neighbour (and pixelated in the browser)
FIT_BOX = 20 / 32         # MNIST's 20 px box, in the 32 px frame (28 px + 2 px padding each side)
INK = 0.25                # a pixel with at least this much ink belongs to the drawing's bounding box
MAX_SKETCH_SIDE = 2048    # a canvas value or API image larger than this is refused (the canvas is 256)
MAX_IMAGE_BYTES = 20 * 2**20   # an uploaded image file (as one image of a zip: ganengine/data/archive.py)
PREVIEW_SIDE = 512        # an uploaded image is shrunk to this once decoded (JPEGs decode at a reduced scale)
HELD_OUT = "held-out"
PRESET = "edges2digits"   # the preset a visitor is pointed to


class Refusal(Exception):
    """One sentence for the visitor; nothing was changed."""


@dataclass
class Translation:
    """What the tab shows: the input as G sees it, G's output, the real target (held-out examples only), a caption.
    Images are uint8 (H, W, 3), upscaled SHOW_SCALE x."""
    text: str
    seen: np.ndarray
    output: np.ndarray
    target: Optional[np.ndarray] = None
    live: bool = False            # from the live run: worth refreshing while it trains


@dataclass
class CheckpointSource:
    title: str
    G: torch.nn.Module            # eval mode, frozen, on the CPU
    family: type
    config: object
    spec: object


def preset_title() -> str:
    from ganengine.presets import get_preset
    try:
        return get_preset(PRESET).title
    except ConfigError:
        return PRESET


# ---- a drawing -> G's input -----------------------------------------------------------------------------------
def sketch_to_input(image, *, side: int = 32, channels: int = 1, fit: bool = True) -> torch.Tensor:
    """uint8 (H, W), (H, W, 1|2|3|4) -> float32 (1, channels, side, side) in [-1, 1], white ink on black (see the
    module docstring). ValueError with one sentence for anything else, or for an empty drawing."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError("the drawing must be an 8-bit image")
    if image.ndim == 3 and image.shape[-1] in (1, 2, 3, 4):
        pass
    elif image.ndim != 2:
        raise ValueError("the drawing must be a grey, RGB or RGBA image")
    h, w = image.shape[:2]
    if not (1 <= h <= MAX_SKETCH_SIDE and 1 <= w <= MAX_SKETCH_SIDE):
        raise ValueError(f"the drawing must be 1 to {MAX_SKETCH_SIDE} px on each side; it is {w} x {h}")
    x = torch.from_numpy(image.astype(np.float32) / 255)
    x = x[..., None] if x.ndim == 2 else x                                  # (H, W, C) in [0, 1]
    if x.shape[-1] in (2, 4):                                               # alpha: transparent = white paper
        alpha = x[..., -1:]
        x = x[..., :-1] * alpha + (1 - alpha)
    if x.shape[-1] == 3:                                                    # ITU-R 601 luma, as PIL's "L"
        x = x @ torch.tensor([0.299, 0.587, 0.114])
    else:
        x = x[..., 0]
    ink = 1 - x if x.mean() > 0.5 else x                                    # (H, W): dark strokes on paper inverted
    if float(ink.max()) < INK:
        raise ValueError("the drawing is empty: draw a digit")
    ink = ink[None, None]                                                   # (1, 1, H, W)
    out = _fit_box(ink, side) if fit else _whole_square(ink, side)          # (1, 1, side, side) in [0, 1]
    return (out.clamp(0, 1) * 2 - 1).expand(1, channels, side, side).contiguous()


def _resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Antialiased: area averaging when shrinking (a box filter), bilinear when growing."""
    if h <= x.shape[-2] and w <= x.shape[-1]:
        return F.interpolate(x, size=(h, w), mode="area")
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)


def _fit_box(ink: torch.Tensor, side: int) -> torch.Tensor:
    """The ink's bounding box scaled into a FIT_BOX * side box, its centre of mass at the centre (clamped inside)."""
    rows = torch.nonzero(ink[0, 0].amax(1) >= INK).squeeze(1)
    cols = torch.nonzero(ink[0, 0].amax(0) >= INK).squeeze(1)
    crop = ink[..., int(rows[0]):int(rows[-1]) + 1, int(cols[0]):int(cols[-1]) + 1]   # (1, 1, h, w)
    h, w = crop.shape[-2:]
    box = round(FIT_BOX * side)
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = _resize(crop, nh, nw)[0, 0]                                      # (nh, nw)
    mass = small.sum().clamp(min=1e-6)
    cy = float((small.sum(1) * torch.arange(nh)).sum() / mass) + 0.5         # centre of mass, in pixels
    cx = float((small.sum(0) * torch.arange(nw)).sum() / mass) + 0.5
    top = min(max(round(side / 2 - cy), 0), side - nh)
    left = min(max(round(side / 2 - cx), 0), side - nw)
    out = torch.zeros(1, 1, side, side)
    out[0, 0, top:top + nh, left:left + nw] = small
    return out


def _whole_square(ink: torch.Tensor, side: int) -> torch.Tensor:
    """The central square of the drawing, resized to side x side."""
    h, w = ink.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return _resize(ink[..., top:top + s, left:left + s], side, side)


def editor_image(value):
    """The composite image of a Gradio ImageEditor value ({"background", "layers", "composite"}), or an image given
    directly (the API); None when there is none (a cleared canvas)."""
    if isinstance(value, dict):
        value = value.get("composite")
    if value is None:
        return None
    if not isinstance(value, np.ndarray):
        raise ValueError("the drawing must be an image")
    return value


def read_image_file(path) -> np.ndarray:
    """An image file -> uint8 (H, W) grey, or (H, W, 4) when it has transparency (paper), shrunk to at most
    PREVIEW_SIDE px. ValueError with one sentence if it is missing, over MAX_IMAGE_BYTES, not an image, or over
    ganengine's pixel limit (read from its header first)."""
    from PIL import Image

    from ganengine.data.images import open_image
    if not isinstance(path, (str, Path)) or not str(path):
        raise ValueError("no image file")
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        raise ValueError("the image could not be read") from None
    if size > MAX_IMAGE_BYTES:
        raise ValueError(f"the image is {size / 2**20:.1f} MiB; images are limited to {MAX_IMAGE_BYTES // 2**20} MiB")
    try:
        with open_image(p, name="the image") as img:
            img.draft("L", (PREVIEW_SIDE, PREVIEW_SIDE))              # JPEG: decode at a reduced scale
            img = img.convert("RGBA") if "A" in img.getbands() or "transparency" in img.info else img.convert("L")
            img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BOX)
            return np.asarray(img, dtype=np.uint8)
    except ConfigError as err:
        raise ValueError(str(err)) from None
    except (OSError, ValueError, SyntaxError) as err:      # truncated or corrupt image data
        raise ValueError(f"the image is not readable ({str(err)[:80]})") from None


def picture(x: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) in [-1, 1] -> uint8 (H * SHOW_SCALE, W * SHOW_SCALE, 3)."""
    return image_grid(x.detach().float().cpu().numpy(), nrow=1, pad=0, scale=SHOW_SCALE)


# ---- the service ------------------------------------------------------------------------------------------------
class TranslateService:
    def __init__(self, *, registry: SessionRegistry, settings: Settings):
        self.registry, self.settings = registry, settings
        self._sources: dict = {}           # (family, data) -> a data source, for held-out pairs of checkpoints
        self._lock = threading.Lock()

    @staticmethod
    def source_choices() -> list[tuple[str, str]]:
        return [("Your live run (its G as it trains)", "live"), ("A pix2pix checkpoint you upload", "upload")]

    # ---- sources -------------------------------------------------------------------------------------------------
    def describe(self, sid: str, key: str) -> str:
        """A sentence on the source: what it is, or why it cannot translate and how to get one that does."""
        try:
            if key == "live":
                trainer = self._live_trainer(sid)
                with trainer.with_run() as run:
                    self._check_live(run)
                    step, task = run.step, run.config.data
                return (f"Translating with your live run ({task}) at step {step:,}: draw, and the output follows "
                        f"G as it trains.")
            return f"Translating with {self._checkpoint(sid, key).title}."
        except Refusal as why:
            return f"⚠ {why}"

    def _live_trainer(self, sid: str):
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            setup = s.setup[0] if s.setup is not None else None
            if setup is not None and "translate" in family_class(setup.family).verbs:
                raise Refusal("Your pix2pix setup is ready but not built: press **Start** (or Step) in the Train "
                              "tab, then draw here.")
            raise Refusal(f"No live run yet. In the Train tab, pick the preset **{preset_title()}** and press "
                          f"**Start**; then draw here and watch G learn. Or upload a pix2pix checkpoint.")
        return trainer

    @staticmethod
    def _check_live(run) -> None:
        TranslateService._check_family(run.family, run.spec.title)

    @staticmethod
    def _check_family(family, data_title: str) -> None:
        if "translate" in family.verbs and not family.one_image_translation:
            raise Refusal(f"Your live run is a {family.name} run on {data_title}: the Translate tab does not take "
                          f"this family yet (it needs a style choice). Its views in the Train tab show held-out "
                          f"digits in every style as it learns.")
        if "translate" not in family.verbs:
            raise Refusal(f"Your live run is a {family.name} run on {data_title}: its G makes samples from noise "
                          f"and does not translate images. In the Train tab, pick the preset **{preset_title()}** "
                          f"and press **Start** (or upload a pix2pix checkpoint here).")

    def _checkpoint(self, sid: str, key: str) -> CheckpointSource:
        if key != "upload":
            raise Refusal(f"unknown source {str(key)[:40]!r}: choose live or upload")
        src = self.registry.session(sid).explore.get("translate:checkpoint")
        if src is None:
            raise Refusal("No checkpoint yet: upload a pix2pix checkpoint (.pt), saved from the Train tab or by "
                          "`python -m ganengine train --preset edges2digits`.")
        return src

    def load_checkpoint(self, sid: str, path) -> str:
        """Read an uploaded checkpoint safely; keep its G if its family translates. Returns a sentence."""
        if not isinstance(path, (str, Path)) or not str(path):
            return "⚠ No file."
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError:
            return "⚠ the upload could not be read"
        if size > self.settings.max_upload_bytes:
            return f"⚠ the file is {size / 2**20:.1f} MiB; uploads are limited to {self.settings.max_upload_mb} MiB"
        try:
            ckpt = read_checkpoint(p.read_bytes(), max_bytes=self.settings.max_upload_bytes)
            family = family_class(ckpt["_config"].family)
            if "translate" in family.verbs and not family.one_image_translation:
                return (f"⚠ That is a {family.name} checkpoint ({ckpt['_spec'].title}): the Translate tab does not "
                        f"take this family yet (it needs a style choice); continue it in the Train tab or use "
                        f"`python -m ganengine translate --style`.")
            if "translate" not in family.verbs:
                return (f"⚠ That is a {family.name} checkpoint ({ckpt['_spec'].title}): its G makes samples from "
                        f"noise and does not translate images (try it in the Explore tab). Translate needs a "
                        f"pix2pix checkpoint, such as one of the preset {preset_title()}.")
            G, config, spec = generator_from_checkpoint(ckpt)
        except CheckpointError as err:
            return f"⚠ {err}"
        src = CheckpointSource(title=f"your checkpoint ({config.data}, step {int(ckpt['step']):,})", G=G,
                               family=family, config=config, spec=spec)
        s = self.registry.session(sid)
        s.explore["translate:checkpoint"] = src
        s.explore.pop("translate:last", None)
        return f"Loaded {src.title}. Draw a digit, or try a random held-out example."

    def _held_out_source(self, src: CheckpointSource):
        """The checkpoint's data source (its held-out pairs), built once per (family, data) and shared read-only."""
        key = (src.family.name, src.config.data)
        with self._lock:
            if key not in self._sources:
                self._sources[key] = src.family.build_source(src.config, "cpu")
            return self._sources[key]

    # ---- translating ---------------------------------------------------------------------------------------------
    def _input_shape(self, sid: str, key: str) -> tuple:
        """(channels, side) of G's input, to prepare a drawing before the forward pass; Refusal if the source cannot
        translate (read from the live run's published snapshot: no lock)."""
        if key == "live":
            snap = self._live_trainer(sid).snapshot()
            self._check_family(family_class(snap.config.family), snap.spec.title)
            spec = snap.spec
        else:
            spec = self._checkpoint(sid, key).spec
        return spec.shape[0], spec.shape[-1]

    def _forward(self, sid: str, key: str, a: torch.Tensor) -> tuple[torch.Tensor, str, tuple]:
        """G(a) on the CPU, a caption of where it came from, and the version it came from ((run, step) for live)."""
        if key == "live":
            trainer = self._live_trainer(sid)
            run_number = trainer.snapshot().run_number
            with trainer.with_run() as run:           # one forward pass between two training steps
                self._check_live(run)
                out = run.family.translate(a).float().cpu()
                step = run.step
            return out, f"your live run at step {step:,}", (run_number, step)
        src = self._checkpoint(sid, key)
        with torch.no_grad():
            out = src.G(a).float()
        return out, src.title, ()

    def drawing(self, sid: str, key: str, value, fit: bool = True) -> Translation:
        """Translate the canvas (an ImageEditor value) or an image array. Refusal when there is nothing to translate."""
        try:
            image = editor_image(value)
            if image is None:
                raise Refusal("Draw a digit on the canvas: one line per stroke, as its outline or its shape.")
            c, side = self._input_shape(sid, key)
            a = sketch_to_input(image, side=side, channels=c, fit=bool(fit))
        except ValueError as err:
            raise Refusal(str(err)) from None
        return self._translate(sid, key, a, None, "your drawing")

    def image_file(self, sid: str, key: str, path, fit: bool = True) -> Translation:
        """Translate an uploaded image file (a sketch; dark strokes on light paper are inverted)."""
        try:
            image = read_image_file(path)
            c, side = self._input_shape(sid, key)
            a = sketch_to_input(image, side=side, channels=c, fit=bool(fit))
        except ValueError as err:
            raise Refusal(str(err)) from None
        return self._translate(sid, key, a, None, "your image")

    def example(self, sid: str, key: str, index) -> Translation:
        """A held-out pair (never trained on) chosen by index (wrapped around): input | output | target."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise Refusal("the example number must be a whole number")
        if key == "live":
            trainer = self._live_trainer(sid)
            run_number = trainer.snapshot().run_number
            with trainer.with_run() as run:
                self._check_live(run)
                a, b, label = run.source.held_out()                     # (N, C, H, W) x2, (N,)
                n = len(label)
                i = int(index) % n
                a, b, label = a[i:i + 1].cpu(), b[i:i + 1].cpu(), int(label[i])
                out = run.family.translate(a).float().cpu()
                step = run.step
            where, version = f"your live run at step {step:,}", (run_number, step)
        else:
            src = self._checkpoint(sid, key)
            a, b, label = self._held_out_source(src).held_out()
            n = len(label)
            i = int(index) % n
            a, b, label = a[i:i + 1], b[i:i + 1], int(label[i])
            with torch.no_grad():
                out = src.G(a).float()
            where, version = src.title, ()
        what = f"held-out pair {i + 1} of {n} (a {label}, never trained on)"
        return self._show(sid, key, a, out, b, what, where, version)

    def _translate(self, sid: str, key: str, a: torch.Tensor, target, what: str) -> Translation:
        out, where, version = self._forward(sid, key, a)
        return self._show(sid, key, a, out, target, what, where, version)

    def _show(self, sid, key, a, out, target, what, where, version) -> Translation:
        s = self.registry.session(sid)
        s.explore["translate:last"] = {"key": key, "a": a, "target": target, "what": what, "version": version}
        live = key == "live"
        follow = " It follows G as the run trains." if live else ""
        return Translation(text=f"G's output for {what}, from {where}.{follow}", seen=picture(a), output=picture(out),
                           target=picture(target) if target is not None else None, live=live)

    def follow(self, sid: str, key: str) -> Optional[Translation]:
        """The last input translated again by the live G if the run has moved on since; None otherwise (cheap: no
        torch work and no lock when nothing changed)."""
        s = self.registry.peek(sid)
        last = s.explore.get("translate:last") if s is not None else None
        if last is None or key != "live" or last["key"] != "live":
            return None
        trainer = s.live_trainer
        if trainer is None:
            return None
        snap = trainer.snapshot()
        if (snap.run_number, snap.step) == last["version"]:
            return None
        try:
            out, where, version = self._forward(sid, key, last["a"])
        except Refusal:
            return None
        return self._show(sid, key, last["a"], out, last["target"], last["what"], where, version)

    def forget(self, sid: str) -> None:
        """The canvas was cleared: stop following the last drawing."""
        s = self.registry.peek(sid)
        if s is not None:
            s.explore.pop("translate:last", None)
