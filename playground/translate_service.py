"""What the Translate tab does, as plain methods keyed by a session id (no Gradio here).

A translating family's generator maps an input image to an output: pix2pix (Isola et al. 2017) turns a digit's edge
map into the digit; CycleGAN (Zhu et al. 2017) turns a thin-stroked digit into a thick one (G_AB) and back (G_BA);
the style-transfer family (StarGAN, Choi et al. 2018) re-renders a plain digit in a style picked by a style code.
Here the input is a visitor's own drawing, an image they upload, or a held-out example (never trained on), and G is
the LIVE generator of their run (its EMA copy when EMA is on), so the output follows training step by step; or G comes
from a checkpoint they upload (read with weights_only=True and checked shape by shape). The family says what else to
ask (a direction, a style, a blend between two styles) and what to show beside the output (the cycle back, the input
in every style): Family.translate_choices / translate_blend / translate_with / translate_example. Nothing here asks
which family a run is.

Sources (the ``key`` of every method):
  live    the visitor's trainer, when its family translates ("translate" in family.verbs). The run lock is taken
          for one forward pass only (``trainer.with_run()``: a few ms, between two training steps).
  upload  a checkpoint of a translating family, kept per visitor as frozen eval-mode sampling nets.

A drawing becomes G's input by playground.sketch_input.sketch_to_input (white ink on black, fitted like MNIST).
"""
from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ganengine.checkpoint import CheckpointError, generator_from_checkpoint, read_checkpoint
from ganengine.config import ConfigError
from ganengine.families import family_class
from ganengine.families.base import eval_mode
from ganengine.render import image_grid
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.sketch_input import editor_image, picture, read_image_file, sketch_to_input

HELD_OUT = "held-out"
PRESET = "edges2digits"   # the preset a visitor is pointed to first
OTHER_PRESETS = ("cyclegan-digits", "digit-styles", "sr-digits")   # the other translating presets, named in the pointers
EVERY_SCALE = 4           # the "every choice" strip is shown 4x


class Refusal(Exception):
    """One sentence for the visitor; nothing was changed."""


@dataclass
class Ask:
    """What the visitor asked besides the image: a choice of Family.translate_choices (None for one-way families),
    and a blend toward a second choice (translate_blend families)."""
    choice: Optional[str] = None
    blend_to: Optional[str] = None
    blend: float = 0.0


@dataclass
class Controls:
    """The extra controls the tab shows for a source: the choices ((label, value), first the default), whether two
    can be blended, and the label of the choice menu."""
    choices: list = field(default_factory=list)
    blend: bool = False
    label: str = ""


@dataclass
class Translation:
    """What the tab shows: the input as G sees it, G's output, the cycle back (where the family has one), the real
    target (held-out examples only), the input in every choice (style families), a caption. Images are uint8
    (H, W, 3), upscaled."""
    text: str
    seen: np.ndarray
    output: np.ndarray
    target: Optional[np.ndarray] = None
    back: Optional[np.ndarray] = None
    back_label: str = ""
    every: Optional[np.ndarray] = None
    every_label: str = ""
    live: bool = False            # from the live run: worth refreshing while it trains


@dataclass
class CheckpointSource:
    title: str
    nets: dict                    # sampling net name -> eval mode, frozen, on the CPU
    family: type
    config: object
    spec: object


def preset_title(name: str = PRESET) -> str:
    from ganengine.presets import get_preset
    try:
        return get_preset(name).title
    except ConfigError:
        return name


def preset_pointer() -> str:
    """The translating presets, for a sentence: **pix2pix: edges -> digits** (or **CycleGAN ...**, **Style ...**)."""
    others = ", ".join(f"**{preset_title(p)}**" for p in OTHER_PRESETS)
    return f"**{preset_title()}** (or {others})"


# ---- the service ------------------------------------------------------------------------------------------------
class TranslateService:
    def __init__(self, *, registry: SessionRegistry, settings: Settings):
        self.registry, self.settings = registry, settings
        self._sources: dict = {}           # (family, data) -> a data source, for held-out examples of checkpoints
        self._lock = threading.Lock()

    @staticmethod
    def source_choices() -> list[tuple[str, str]]:
        return [("Your live run (its G as it trains)", "live"), ("A checkpoint you upload", "upload")]

    # ---- sources -------------------------------------------------------------------------------------------------
    def describe(self, sid: str, key: str) -> str:
        """A sentence on the source: what it is, or why it cannot translate and how to get one that does."""
        try:
            if key == "live":
                trainer = self._live_trainer(sid)
                with trainer.with_run() as run:
                    self._check_family(run.family, run.spec.title)
                    step, task, family = run.step, run.config.data, run.family.name
                return (f"Translating with your live {family} run ({task}) at step {step:,}: draw, and the output "
                        f"follows G as it trains.")
            return f"Translating with {self._checkpoint(sid, key).title}."
        except Refusal as why:
            return f"⚠ {why}"

    def controls(self, sid: str, key: str) -> Controls:
        """The source's family's extra controls (none when the source cannot translate); no lock."""
        try:
            family, _, spec = self._family_spec(sid, key)
        except Refusal:
            return Controls()
        return Controls(choices=list(family.translate_choices(spec)), blend=bool(family.translate_blend),
                        label=family.translate_choice_label)

    def _live_trainer(self, sid: str):
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            setup = s.setup[0] if s.setup is not None else None
            if setup is not None and "translate" in family_class(setup.family).verbs:
                raise Refusal(f"Your {setup.family} setup is ready but not built: press **Start** (or Step) in the "
                              f"Train tab, then draw here.")
            raise Refusal(f"No live run yet. In the Train tab, pick the preset {preset_pointer()} and press "
                          f"**Start**; then draw here and watch G learn. Or upload a checkpoint of one.")
        return trainer

    @staticmethod
    def _check_family(family, data_title: str) -> None:
        if "translate" not in family.verbs:
            raise Refusal(f"Your live run is a {family.name} run on {data_title}: its G makes samples from noise "
                          f"and does not translate images. In the Train tab, pick the preset {preset_pointer()} "
                          f"and press **Start** (or upload a checkpoint of one here).")

    def _family_spec(self, sid: str, key: str) -> tuple:
        """(family class, RunConfig, DataSpec) of the source, from the live run's published snapshot (no lock) or
        the checkpoint; Refusal if it cannot translate."""
        if key == "live":
            snap = self._live_trainer(sid).snapshot()
            family = family_class(snap.config.family)
            self._check_family(family, snap.spec.title)
            return family, snap.config, snap.spec
        src = self._checkpoint(sid, key)
        return src.family, src.config, src.spec

    def _checkpoint(self, sid: str, key: str) -> CheckpointSource:
        if key != "upload":
            raise Refusal(f"unknown source {str(key)[:40]!r}: choose live or upload")
        src = self.registry.session(sid).explore.get("translate:checkpoint")
        if src is None:
            raise Refusal("No checkpoint yet: upload a checkpoint (.pt) of a pix2pix, CycleGAN, style-transfer or "
                          "SRGAN run, saved from the Train tab or by `python -m ganengine train --preset edges2digits`.")
        return src

    def load_checkpoint(self, sid: str, path) -> str:
        """Read an uploaded checkpoint safely; keep its sampling nets if its family translates. Returns a sentence."""
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
            if "translate" not in family.verbs:
                return (f"⚠ That is a {family.name} checkpoint ({ckpt['_spec'].title}): its G makes samples from "
                        f"noise and does not translate images (try it in the Explore tab). Translate needs a "
                        f"checkpoint of a translating preset, such as {preset_pointer()}.")
            nets = {name: generator_from_checkpoint(ckpt, net=name)[0] for name in family.sampling}
            config, spec = ckpt["_config"], ckpt["_spec"]
        except CheckpointError as err:
            return f"⚠ {err}"
        src = CheckpointSource(title=f"your {family.name} checkpoint ({config.data}, step {int(ckpt['step']):,})",
                               nets=nets, family=family, config=config, spec=spec)
        s = self.registry.session(sid)
        s.explore["translate:checkpoint"] = src
        s.explore.pop("translate:last", None)
        return f"Loaded {src.title}. Draw a digit, or try a random held-out example."

    def _held_out(self, src: CheckpointSource) -> tuple:
        """The checkpoint's data source's held-out examples, the source built once per (family, data), shared."""
        key = (src.family.name, src.config.data)
        with self._lock:
            if key not in self._sources:
                self._sources[key] = src.family.build_source(src.config, "cpu")
            source = self._sources[key]
        return source.held_out()

    # ---- what was asked ------------------------------------------------------------------------------------------
    @staticmethod
    def _ask(family, spec, choice=None, blend_to=None, blend=0.0) -> Ask:
        """The visitor's choice checked against the family's: Refusal with the list when it is not one of them."""
        choices = family.translate_choices(spec)
        if not choices:
            return Ask()                        # one-way families: a leftover choice of another family is ignored
        values = [v for _, v in choices]
        choice = choice or values[0]
        for value in (choice, blend_to or values[0]):
            if value not in values:
                raise Refusal(f"choose one of {', '.join(values)}; got {str(value)[:40]!r}")
        if not family.translate_blend or not blend_to:
            return Ask(choice=choice)
        if isinstance(blend, bool) or not isinstance(blend, (int, float)) or not 0 <= float(blend) <= 1:
            raise Refusal("the blend must be a number from 0 to 1")
        return Ask(choice=choice, blend_to=blend_to, blend=float(blend))

    @staticmethod
    def _describe_ask(family, spec, ask: Ask) -> str:
        labels = dict((v, label) for label, v in family.translate_choices(spec))
        if ask.choice is None:
            return ""
        text = f" ({labels[ask.choice]}"
        if ask.blend_to and ask.blend > 0:
            text += f", blended {ask.blend:.0%} toward {labels[ask.blend_to]}"
        return text + ")"

    # ---- translating ---------------------------------------------------------------------------------------------
    @staticmethod
    @torch.no_grad()
    def _run_family(family, nets: dict, spec, a: torch.Tensor, ask: Ask, device) -> dict:
        """family.translate_with on eval-mode nets; every tensor of the answer back on the CPU as float32."""
        with ExitStack() as stack:
            for net in nets.values():
                stack.enter_context(eval_mode(net))
            res = family.translate_with(nets, spec, a.to(device), ask.choice, ask.blend_to, ask.blend)
        return {k: v.float().cpu() if isinstance(v, torch.Tensor) else v for k, v in res.items()}

    def _forward(self, sid: str, key: str, request) -> tuple:
        """(input, target or None, what it is, the family's answer, where it came from, its version ((run, step) for
        live), the family and spec). request: ("image", a, what) or ("example", index)."""
        if key == "live":
            trainer = self._live_trainer(sid)
            run_number = trainer.snapshot().run_number
            with trainer.with_run() as run:           # one forward pass between two training steps
                family, spec = type(run.family), run.spec
                self._check_family(family, spec.title)
                self._check_fits(family, run.config, spec, request)
                ask = self._ask(family, spec, *request[-1])
                a, target, what = self._input(family, run.source.held_out, request, ask)
                nets = {name: run.sampler(name) for name in family.sampling}
                res = self._run_family(family, nets, spec, a, ask, run.device)
                step = run.step
            return a, target, what, res, f"your live run at step {step:,}", (run_number, step), family, spec, ask
        src = self._checkpoint(sid, key)
        self._check_fits(src.family, src.config, src.spec, request)
        ask = self._ask(src.family, src.spec, *request[-1])
        a, target, what = self._input(src.family, lambda: self._held_out(src), request, ask)
        res = self._run_family(src.family, src.nets, src.spec, a, ask, "cpu")
        return a, target, what, res, src.title, (), src.family, src.spec, ask

    @staticmethod
    def _check_fits(family, config, spec, request) -> None:
        """Refusal when a drawing prepared for another G (the run changed family or data since) does not fit this
        one's input (a 32 px edge map into SRGAN's 7 px G, or the other way round)."""
        if request[0] != "image":
            return
        c, h, w = family.translate_input_shape(config, spec)
        if tuple(request[1].shape[1:]) != (c, h, w):
            raise Refusal("Your run changed since that drawing: draw again (or pick a held-out example).")

    @staticmethod
    def _input(family, held_out, request, ask: Ask) -> tuple:
        """(G's input (1, C, H, W) on the CPU, the target or None, a phrase) for an image or a held-out example."""
        if request[0] == "image":
            return request[1], None, request[2]
        # (an example is drawn fresh from the source's own held-out data, so it always fits)
        held = held_out()
        n = len(held[-1])
        i = int(request[1]) % n
        a, target, label = family.translate_example(held, i, ask.choice)
        return a.cpu(), target.cpu(), f"held-out example {i + 1} of {n} (a {label}, never trained on)"

    def _prepared(self, sid: str, key: str, image, fit) -> torch.Tensor:
        family, config, spec = self._family_spec(sid, key)
        c, side, _ = family.translate_input_shape(config, spec)
        try:
            return sketch_to_input(image, side=side, channels=c, fit=bool(fit), box=family.translate_fit_box,
                                   thick=side < 16)
        except ValueError as err:
            raise Refusal(str(err)) from None

    def drawing(self, sid: str, key: str, value, fit: bool = True, choice=None, blend_to=None,
                blend=0.0) -> Translation:
        """Translate the canvas (an ImageEditor value) or an image array. Refusal when there is nothing to translate."""
        try:
            image = editor_image(value)
        except ValueError as err:
            raise Refusal(str(err)) from None
        if image is None:
            raise Refusal("Draw a digit on the canvas: one line per stroke, as its outline or its shape.")
        a = self._prepared(sid, key, image, fit)
        return self._translate(sid, key, ("image", a, "your drawing", (choice, blend_to, blend)))

    def image_file(self, sid: str, key: str, path, fit: bool = True, choice=None, blend_to=None,
                   blend=0.0) -> Translation:
        """Translate an uploaded image file (a sketch; dark strokes on light paper are inverted)."""
        try:
            image = read_image_file(path)
        except ValueError as err:
            raise Refusal(str(err)) from None
        a = self._prepared(sid, key, image, fit)
        return self._translate(sid, key, ("image", a, "your image", (choice, blend_to, blend)))

    def example(self, sid: str, key: str, index, choice=None, blend_to=None, blend=0.0) -> Translation:
        """A held-out example (never trained on) chosen by index (wrapped around): input | output | target."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise Refusal("the example number must be a whole number")
        return self._translate(sid, key, ("example", int(index), (choice, blend_to, blend)))

    def again(self, sid: str, key: str, choice=None, blend_to=None, blend=0.0) -> Optional[Translation]:
        """The last input translated again with another choice or blend; None when nothing was translated yet."""
        s = self.registry.peek(sid)
        last = s.explore.get("translate:last") if s is not None else None
        if last is None or last["key"] != key:
            return None
        return self._translate(sid, key, last["request"][:-1] + ((choice, blend_to, blend),))

    def _translate(self, sid: str, key: str, request) -> Translation:
        a, target, what, res, where, version, family, spec, ask = self._forward(sid, key, request)
        s = self.registry.session(sid)
        s.explore["translate:last"] = {"key": key, "request": request, "version": version}
        live = key == "live"
        follow = " It follows G as the run trains." if live else ""
        every = res.get("every")
        return Translation(
            text=f"G's output for {what}{self._describe_ask(family, spec, ask)}, from {where}.{follow}",
            seen=picture(a), output=picture(res["output"][:1]), target=picture(target) if target is not None else None,
            back=picture(res["back"][:1]) if "back" in res else None, back_label=res.get("back_label", ""),
            every=image_grid(every.numpy(), nrow=len(every), pad=2, scale=EVERY_SCALE) if every is not None else None,
            every_label=res.get("every_label", ""), live=live)

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
            return self._translate(sid, key, last["request"])
        except Refusal:                   # the run changed under the drawing: stop following it
            s.explore.pop("translate:last", None)
            return None

    def forget(self, sid: str) -> None:
        """The canvas was cleared: stop following the last drawing."""
        s = self.registry.peek(sid)
        if s is not None:
            s.explore.pop("translate:last", None)
