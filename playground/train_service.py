"""What the Train tab does, as plain methods keyed by a session id: no Gradio here, so it is unit-testable.
Four parts live in their own files and join TrainService as mixins: the page's training budget
(playground/run_budget.py), the live knobs (playground/train_knobs.py), the run's files: loading a checkpoint, saving one,
the GIF export (playground/run_files.py), and the timeline: a past frame, rewind (playground/run_timeline.py).

Every method returns plain values (strings, dicts, JSON text, uint8 images) and turns every error a visitor can cause
into a message: nothing raises into the UI. The Gradio wiring (playground/train_tab.py) only maps components to
these arguments and results.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Optional

from ganengine.checkpoint import remove_stale_temp_files
from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.images import DataUnavailable
from ganengine.families import FAMILIES, family_class, family_for_data
from ganengine.presets import PRESETS, get_preset, preset_for_data
from ganengine.trainer import MAX_PACE
from playground.replies import Reply, done, refused
from playground.sessions import NoSlot, SessionGone, SessionRegistry, remaining_budget, spend
from playground.settings import Settings
from playground.visitor_files import (SaveFolder, drop_other_extractions, extracted_bytes, visitor_dir,
                                      zip_unpacked_bytes)
from playground.form_values import lr_from_log, os_reason, public_text, whole_number
from playground.live_tick import Tick, tick_for
from playground.run_budget import RunBudget
from playground.run_files import RunFiles
from playground.run_timeline import RunTimeline
from playground.train_knobs import KNOB_LABELS, LIVE_KNOBS, KnobCommands

POINT_DATA = [("Ring of 8 Gaussians", "ring8"), ("Grid of 25 Gaussians", "grid25"), ("Spiral", "spiral"),
              ("Two moons", "moons"), ("Your points (upload a CSV of x,y)", "points")]
IMAGE_DATA = [("MNIST digits (5,000 bundled, offline)", "mnist"), ("Your images (upload a .zip)", "folder")]
UPLOAD_SIZE = 32  # side of images from an uploaded zip: 32x32 trains at a useful speed on a 2-core CPU
TORCHVISION_DATA = [("MNIST (60,000; torchvision)", "mnist-full", "MNIST"),
                    ("Fashion-MNIST (torchvision)", "fashion-mnist", "FashionMNIST"),
                    ("CIFAR-10 (torchvision)", "cifar10", "cifar-10-batches-py"),
                    ("CelebA 64x64 (torchvision)", "celeba", "celeba/img_align_celeba")]
LOSS_CHOICES = [("non-saturating (ns)", "ns"), ("minimax (the paper's)", "minimax"), ("least squares (lsgan)", "lsgan"),
                ("hinge", "hinge"), ("Wasserstein + GP (wgan-gp)", "wgan-gp")]
DEFAULT_PRESET = "ring8"   # a 2-D toy first, as GAN Lab; the Train tab also offers a trained digit GAN
QUALITY_EVERY = 5.0  # seconds of training between quality measurements
MAX_STEPS_PER_CALL = 100_000
GONE = "⚠ This page was closed or timed out; reload it to train again."

__all__ = ["TrainService", "DEFAULT_PRESET", "GONE", "KNOB_LABELS", "LIVE_KNOBS", "LOSS_CHOICES", "QUALITY_EVERY",
           "lr_from_log", "public_text"]   # what other modules import from here


class TrainService(RunBudget, KnobCommands, RunFiles, RunTimeline):
    def __init__(self, *, registry: SessionRegistry, settings: Settings):
        self.registry, self.settings = registry, settings
        self.saves = SaveFolder(settings.save_dir, settings.save_quota_mb * 2**20)
        remove_stale_temp_files(settings.save_dir)  # saves a killed process never finished (kill -9 mid-write)

    # ---- choices ---------------------------------------------------------------------------------------------
    def dataset_choices(self) -> list[tuple[str, str]]:
        choices = list(POINT_DATA) + list(IMAGE_DATA)
        for name in FAMILIES:  # the other families' data (pix2pix's pairs, ...)
            choices += list(family_class(name).dataset_labels)
        for label, name, folder in TORCHVISION_DATA:
            on_disk = (Path(self.settings.data_root) / folder).exists()
            if on_disk or self.settings.allow_downloads:
                choices.append((label if on_disk else f"{label}: downloads on first use", name))
        return choices

    @staticmethod
    def model_choices(data: str) -> list[tuple[str, str]]:
        """The models of the family that trains on ``data`` ([] for an unknown dataset)."""
        try:
            return family_class(family_for_data(data)).model_choices(data)
        except ConfigError:
            return []

    @staticmethod
    def uses_latent(data: str) -> bool:
        """Whether the family of ``data`` draws from a latent z (the form's latent size matters)."""
        try:
            return family_class(family_for_data(data)).latent
        except ConfigError:
            return True

    @staticmethod
    def preset_choices() -> list[tuple[str, str]]:
        return [(("⚠ " if p.fails_on_purpose else "") + p.title, p.name) for p in PRESETS.values() if p.in_app]

    @staticmethod
    def preset_watch(name: str) -> str:
        try:
            p = get_preset(name)
        except ConfigError:
            return ""
        return f"**What to watch:** {p.watch}"

    # ---- setup -----------------------------------------------------------------------------------------------
    def preset_setup(self, name: str) -> dict:
        """The setup fields and knobs a preset sets (for the form), with the preset's default seed 0."""
        config, knobs = get_preset(name).build(data_root=self.settings.data_root)
        return {**config.to_dict(), **knobs.to_dict()}

    def _build(self, setup: dict, data_path: str = "") -> tuple[RunConfig, Knobs]:
        cfg_fields, knob_fields = RunConfig.__dataclass_fields__, set(Knobs.__dataclass_fields__) - {"extra"}
        config = {k: v for k, v in setup.items() if k in cfg_fields}
        config["family"] = family_for_data(config.get("data", ""))  # the dataset names its family
        family = family_class(config["family"])
        config.update(data_root=self.settings.data_root, download=self.settings.allow_downloads, device="auto")
        if config.get("data") == "points":
            config["points_path"] = data_path
        elif config.get("data") == "folder":
            config["folder_path"] = data_path
            config.setdefault("image_size", UPLOAD_SIZE)
            config["image_size"] = config["image_size"] or UPLOAD_SIZE
        knobs = {k: v for k, v in setup.items() if k in knob_fields or k in family.KNOBS}  # not another family's
        return RunConfig(**config), Knobs.from_dict(knobs).for_family(family)

    def _prepare_upload(self, sid: str, data: str, upload_path: str) -> str:
        """Check an uploaded data file; for a zip, extract its images into the visitor's folder. Returns the path."""
        if not upload_path:
            return ""
        p = Path(upload_path)
        size = p.stat().st_size
        if size > self.settings.max_upload_bytes:
            raise ConfigError(f"the file is {size / 2**20:.1f} MiB; uploads are limited to "
                              f"{self.settings.max_upload_mb} MiB")
        if data != "folder":
            return str(p)
        from ganengine.data.archive import extract_images
        s = self.registry.session(sid)
        target = visitor_dir(s) / f"images-{p.stem[:40]}-{int(size)}"
        if target.exists():
            return str(target)
        in_use = s.setup[0].folder_path if s.setup is not None and s.setup[0].data == "folder" else None
        drop_other_extractions(s, keep=in_use)  # one extracted zip per visitor: the one their run uses
        quota = self.settings.extract_quota_mb * 2**20
        if extracted_bytes(self.registry.sessions()) + zip_unpacked_bytes(p) > quota:
            raise ConfigError(f"the server's room for unpacked uploads ({self.settings.extract_quota_mb} MiB for all "
                              f"visitors) is full; try a smaller zip or again later")
        try:
            extract_images(p, target)
        except ConfigError:
            import shutil
            shutil.rmtree(target, ignore_errors=True)
            raise
        return str(target)

    def base_setup(self, sid: str, data: str) -> dict:
        """What the form's fields are laid over: the visitor's current setup for the same dataset, else the dataset's
        tuned preset. The form shows only some fields; the rest (MLP depth, Adam betas, lr floor, grid interval)
        must come from the preset the visitor chose, not from RunConfig's and Knobs' generic defaults."""
        current = self.registry.session(sid).setup
        if current is not None and current[0].data == data:
            return {**current[0].to_dict(), **current[1].to_dict()}
        try:
            config, knobs = preset_for_data(data).build(data_root=self.settings.data_root)
        except ConfigError:
            return {}
        return {**config.to_dict(), **knobs.to_dict()}

    def apply_setup(self, sid: str, setup: dict, points_path: str = "", *, base: Optional[dict] = None) -> Reply:
        """Remember the setup (the form's fields over ``base``, by default base_setup); if the visitor has a
        trainer, rebuild it now (paused at step 0).
        points_path: an uploaded file: a CSV/npy of points (data "points") or a zip of images (data "folder")."""
        try:
            data_path = self._prepare_upload(sid, setup.get("data", ""), points_path)
            base = self.base_setup(sid, setup.get("data", "")) if base is None else base
            config, knobs = self._build({**base, **setup}, data_path)
        except ConfigError as err:
            return refused(f"⚠ {public_text(err)}")
        except OSError as err:
            return refused(f"⚠ the upload could not be read ({os_reason(err)})")
        s = self.registry.session(sid)
        with s.lock:
            s.explore.pop("live_source", None)
            s.setup = (config, knobs)
            trainer = s.live_trainer
            if trainer is None:
                return done("Setup ready: press **Start** (or Step) to train.")
            old = trainer.snapshot()
            if old.step == 0 and s.setup_reply and s.setup_reply[0] == (config, knobs):
                # the same setup again, nothing trained since (the preset menu sends its event twice, seen in
                # Chromium): nothing to rebuild, and the first answer ("your run ... was replaced") stays
                return s.setup_reply[1]
            try:
                self._reset(s, trainer, config=config, knobs=knobs)
            except (ConfigError, DataUnavailable) as err:
                return refused(f"⚠ {public_text(err)}")
            except OSError as err:
                return refused(f"⚠ could not read the data ({os_reason(err)})")
            replaced = (f"Your {old.config.data} run at step {old.step:,} was replaced (save a checkpoint first to "
                        f"keep one). " if old.step > 0 else "")
            answer = done(f"{replaced}Rebuilt with the new setup ({config.data}, {config.model}): step 0, paused. "
                          f"Press **Start**.")
            # kept under the lock: the menu's second event runs beside the first (the queue's concurrency is 4)
            # and must find this answer, or it rebuilds again and answers without the notice (seen in Chromium)
            s.setup_reply = ((config, knobs), answer)
        return answer

    def _close_branch(self, s) -> bool:
        """The run is being replaced (a reset, a new setup, a checkpoint): its branch goes (its training after the
        fork stays spent), so it does not train on, unseen, in a slot. Whether there was one."""
        return self.registry.close_branch(s.sid) is not None

    @staticmethod
    def _tell_branch_closed(s) -> None:
        s.sent["branch_note"] = (" **Your branch was closed: the run it forked from was replaced** (a new setup, "
                                 "reset or checkpoint).")     # the branch panel shows it until the page's next fork

    def _reset(self, s, trainer, **rebuild) -> None:
        """Rebuild the visitor's run; the training its old run did stays spent (the budget spans resets)."""
        closed = self._close_branch(s)
        before = trainer.snapshot()
        trainer.reset(**rebuild)
        spend(s, before)
        self._apply_budget(s, trainer, paid_from=(0, 0.0))
        s.sent.clear()
        if closed:
            self._tell_branch_closed(s)

    def _trainer(self, sid: str):
        """The visitor's trainer, built from their setup on first use. Returns (trainer, None) or (None, message)."""
        s = self.registry.session(sid)
        with s.lock:
            if s.live_trainer is not None:
                return s.live_trainer, None
            config, knobs = s.setup or get_preset(DEFAULT_PRESET).build(data_root=self.settings.data_root)
            budget = self._budget_message(s)
            if budget:
                return None, budget
            steps, seconds = remaining_budget(s, self.settings.run_steps, self.settings.run_seconds)
            try:
                trainer = self.registry.trainer(
                    sid, config=config, knobs=knobs, max_steps=steps, max_seconds=seconds,
                    quality_every=QUALITY_EVERY, **self._trainer_limits())
            except NoSlot as err:
                return None, refused(f"◷ {err}")
            except SessionGone:
                return None, refused(GONE)
            except (ConfigError, DataUnavailable) as err:
                return None, refused(f"⚠ {public_text(err)}")
            except OSError as err:
                return None, refused(f"⚠ could not read the data ({os_reason(err)})")
            s.sent.clear()
            s.paid_from_step, s.paid_from_seconds = 0, 0.0          # a new run: all of its training is paid
            if s.pace:
                trainer.set_pace(s.pace)
            return trainer, None

    def _trainer_limits(self) -> dict:
        """Per-step cost cap for new trainers (public hosts)."""
        return {"max_step_flops": self.settings.max_step_gflops * 1e9} if self.settings.max_step_gflops else {}

    def _claim(self, sid: str, work) -> Optional[str]:
        """Take a working slot and give the trainer its work; a sentence when no slot is free or the budget is spent."""
        s = self.registry.session(sid)
        budget = self._budget_message(s)
        if budget:
            return budget
        try:
            self.registry.claim(sid, work)
        except NoSlot as err:
            return refused(f"◷ {err}")
        except SessionGone:
            return refused(GONE)
        return None

    # ---- commands --------------------------------------------------------------------------------------------
    def start(self, sid: str) -> Reply:
        self.registry.session(sid).notice = ""
        trainer, problem = self._trainer(sid)
        if problem:
            return problem
        problem = self._claim(sid, lambda t: t.start())
        if problem:
            return problem
        return done(trainer.snapshot().message or "Training…")

    def pause(self, sid: str) -> Reply:
        s = self.registry.session(sid)
        if s.live_trainer is not None:
            s.live_trainer.pause()
        return done("Paused.")

    def step(self, sid: str, kind: str = "both", n=1) -> Reply:
        if kind not in ("both", "d", "g"):
            return refused(f"⚠ the step kind must be both, d or g; got {str(kind)[:40]!r}")
        count = whole_number(n, 1, MAX_STEPS_PER_CALL)
        if count is None:
            return refused(f"⚠ the number of steps must be a whole number from 1 to {MAX_STEPS_PER_CALL:,}")
        trainer, problem = self._trainer(sid)
        if problem:
            return problem
        def work(t):
            t.pause(keep_steps=True)   # stop continuous training; steps already queued by earlier clicks still run
            t.step(count, kind)
        try:
            problem = self._claim(sid, work)
        except (ConfigError, TypeError, ValueError) as err:
            return refused(f"⚠ {public_text(err)}")
        if problem:
            return problem
        return done({"both": "One step: D update(s), then a G update.", "d": "One D update (G unchanged).",
                     "g": "One G update (D unchanged)."}[kind])

    def wait_idle(self, sid: str, timeout: float) -> None:
        """Wait (at most timeout seconds) until the visitor's queued steps are done and a pause has taken effect."""
        trainer = self.registry.session(sid).live_trainer
        if trainer is not None and not trainer.running:
            trainer.wait_idle(timeout)
            trainer.request_publish()
            deadline = time.monotonic() + 1.0
            while trainer.snapshot().status == "running" and time.monotonic() < deadline:
                time.sleep(0.01)

    def reset(self, sid: str) -> Reply:
        s = self.registry.session(sid)
        with s.lock:
            trainer = s.live_trainer
            if trainer is None:
                return refused("Nothing to reset yet.")
            self._reset(s, trainer)
        return done("Reset: new weights, step 0, paused.")

    def _current(self, sid: str) -> tuple[RunConfig, Knobs]:
        """The visitor's settings now: their trainer's, else their setup, else the default preset's."""
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is not None:
            snap = trainer.snapshot()
            return snap.config, snap.knobs
        return s.setup or get_preset(DEFAULT_PRESET).build(data_root=self.settings.data_root)

    current = _current

    def remember_preset(self, sid: str, name: str) -> None:
        """The preset the visitor chose last (the page's link names it)."""
        self.registry.session(sid).preset = name if name in PRESETS else ""

    def set_pace(self, sid: str, value) -> Reply:
        """The watchable speed: cap continuous training at ``value`` steps per second (0 = full speed)."""
        try:
            pace = float(value)
        except (TypeError, ValueError):
            pace = float("nan")
        if not (0 <= pace <= MAX_PACE):
            return refused(f"⚠ the speed must be from 0 (full speed) to {MAX_PACE:g} steps per second")
        s = self.registry.session(sid)
        s.pace = pace
        if s.live_trainer is not None:
            s.live_trainer.set_pace(pace)
        return done("Full speed." if not pace else f"Watchable pace: at most {pace:g} steps per second, each one "
                    f"drawn as it happens.")

    # ---- reading ---------------------------------------------------------------------------------------------
    def status(self, sid: str) -> dict:
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            return {"status": "none", "step": 0, "message": "no trainer yet: call start", "latest": {}}
        snap = trainer.snapshot()
        latest = {k: (v if math.isfinite(v) else None) for k, v in snap.latest.items()}
        q = snap.quality[-1] if snap.quality else {}
        return {"status": snap.status, "step": snap.step, "d_updates": snap.d_updates, "g_updates": snap.g_updates,
                "train_seconds": round(snap.train_seconds, 3), "steps_per_sec": latest.get("steps_per_sec"),
                "latest": latest, "knobs": snap.knobs.to_dict(), "data": snap.config.data, "model": snap.config.model,
                "message": snap.message, "quality": {k: v for k, v in q.items() if not isinstance(v, list)},
                "events": [{"step": e.step, "text": e.text} for e in snap.events[-10:]]}

    def tick(self, sid: str) -> Tick:
        """The live refresh: only what changed since this page's last tick is rebuilt and sent."""
        return tick_for(self.registry.session(sid))
