"""What the Train tab does, as plain methods keyed by a session id: no Gradio here, so it is unit-testable.

Every method returns plain values (strings, dicts, JSON text, uint8 images) and turns every error a visitor can cause
into a message: nothing raises into the UI. The Gradio wiring (playground/train_tab.py) only maps components to
these arguments and results.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Optional

import numpy as np

from ganengine.checkpoint import remove_stale_temp_files
from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.images import DataUnavailable
from ganengine.families import FAMILIES, family_class, family_for_data
from ganengine.presets import PRESETS, get_preset, preset_for_data
from ganengine.render import gif_bytes
from ganengine.trainer import MAX_PACE
from playground.replies import Reply, done, refused
from playground.sessions import NoSlot, SessionGone, SessionRegistry, remaining_budget, spend
from playground.settings import Settings
from playground.visitor_files import (SaveFolder, drop_other_extractions, extracted_bytes, replace_export,
                                      visitor_dir, zip_unpacked_bytes)
from playground.form_values import LR_RANGE, lr_from_log, os_reason, public_text, whole_number  # noqa: F401
from playground.live_tick import Tick, rewind_note, tick_for
from playground.views import column_labels, image_html
from playground.draw_service import checkpoint_data

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
LIVE_KNOBS = ("lr_g", "lr_d", "d_steps", "loss", "batch_size", "label_smoothing", "r1_weight", "ema_decay",
              "lr_decay_steps")
QUALITY_EVERY = 5.0  # seconds of training between quality measurements
MAX_STEPS_PER_CALL = 100_000
GONE = "⚠ This page was closed or timed out; reload it to train again."


class TrainService:
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
            try:
                self._reset(s, trainer, config=config, knobs=knobs)
            except (ConfigError, DataUnavailable) as err:
                return refused(f"⚠ {public_text(err)}")
            except OSError as err:
                return refused(f"⚠ could not read the data ({os_reason(err)})")
        replaced = (f"Your {old.config.data} run at step {old.step:,} was replaced (save a checkpoint first to keep "
                    f"one). " if old.step > 0 else "")
        return done(f"{replaced}Rebuilt with the new setup ({config.data}, {config.model}): step 0, paused. Press "
                    f"**Start**.")

    def load_checkpoint(self, sid: str, upload_path: str) -> tuple[Optional[dict], str]:
        """Continue a saved run (a .pt this app or the CLI wrote) in the visitor's trainer, paused at its step, with
        its settings. Returns (the setup now, for the form; or None) and a message. The file is read with
        weights_only=True and checked tensor by tensor (ganengine.checkpoint); the run's data comes from this
        server (the file's paths are not used), so a run on data uploaded elsewhere is refused."""
        from ganengine.checkpoint import CheckpointError, read_checkpoint
        if not upload_path:
            return None, refused("Choose a .pt checkpoint first.")
        try:
            ckpt = read_checkpoint(upload_path, max_bytes=self.settings.max_upload_bytes)
        except CheckpointError as err:
            return None, refused(f"⚠ {public_text(err)}")
        except OSError as err:
            return None, refused(f"⚠ the upload could not be read ({os_reason(err)})")
        config, knobs = ckpt["_config"], ckpt["_knobs"]
        config, problem = checkpoint_data(ckpt, config, self.registry.session(sid))  # own points come with it
        if problem:
            return None, problem
        config = config.with_changes(data_root=self.settings.data_root, download=self.settings.allow_downloads,
                                     device="auto")
        ckpt = {**ckpt, "_config": config}
        s = self.registry.session(sid)
        with s.lock:
            s.setup = (config, knobs)
            s.explore.pop("live_source", None)
        trainer, problem = self._trainer(sid)
        if problem:
            return None, problem
        with s.lock:
            before = trainer.snapshot()
            try:
                trainer.load_checkpoint(ckpt)
            except (ConfigError, DataUnavailable) as err:
                return None, refused(f"⚠ {public_text(err)}")
            except OSError as err:
                return None, refused(f"⚠ could not read the data ({os_reason(err)})")
            closed = self._close_branch(s)           # a file that did not load left everything as it was
            spend(s, before)
            loaded = trainer.snapshot()
            self._apply_budget(s, trainer, paid_from=(loaded.step, loaded.train_seconds))  # the file's steps: free
            s.sent.clear()
            if closed:
                self._tell_branch_closed(s)
        snap = trainer.snapshot()
        return {**snap.config.to_dict(), **snap.knobs.to_dict()}, \
            done(f"Loaded: {snap.spec.title}, step {snap.step:,}, paused. Press **Start** to continue training it.")

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

    def _apply_budget(self, s, trainer, paid_from=None) -> None:
        """Give the trainer what is left of the page's limits (the whole budget used: a limit it has reached).
        paid_from: (step, train seconds) from which this run's training is paid (a new or reset run: 0; a loaded
        checkpoint: its own counters; None: as before, e.g. after a rewind or a kept branch). Limits are absolute:
        paid_from + what is left, so a rewind to a late frame or a kept branch gets no budget twice."""
        if paid_from is not None:
            s.paid_from_step, s.paid_from_seconds = int(paid_from[0]), float(paid_from[1])
        left = remaining_budget(s, self.settings.run_steps, self.settings.run_seconds)
        if left is None:
            trainer.set_limits(max_steps=max(trainer.snapshot().step, 1) if self.settings.run_steps else 0,
                               max_seconds=1e-9 if self.settings.run_seconds else 0.0)
            return
        trainer.set_limits(max_steps=s.paid_from_step + left[0] if left[0] else 0,
                           max_seconds=s.paid_from_seconds + left[1] if left[1] else 0.0)

    def budget_left_now(self, s, trainer) -> Optional[tuple[int, float]]:
        """What the page may still train beyond the run's current counters (0 = no limit), or None when nothing.
        A branch gets this (it shares the page's budget with the run it forks from)."""
        left = remaining_budget(s, self.settings.run_steps, self.settings.run_seconds)
        if left is None:
            return None
        snap = trainer.snapshot()
        steps = left[0] - (snap.step - s.paid_from_step) if left[0] else 0
        seconds = left[1] - (snap.train_seconds - s.paid_from_seconds) if left[1] else 0.0
        if (left[0] and steps <= 0) or (left[1] and seconds <= 0):
            return None
        return steps, seconds

    def _budget_message(self, s, used_up: bool = False) -> Optional[Reply]:
        """A sentence when the page has used its whole training budget (or used_up says so), else None."""
        if not used_up and remaining_budget(s, self.settings.run_steps, self.settings.run_seconds) is not None:
            return None
        limits = [f"{self.settings.run_seconds:g} s" if self.settings.run_seconds else "",
                  f"{self.settings.run_steps:,} steps" if self.settings.run_steps else ""]
        spent = " / ".join(x for x in limits if x)
        return refused(f"⚠ This page has used its training budget on this server ({spent} of training, counted "
                       f"across resets and rewinds). Explore what it learned, save a checkpoint, or run the app on "
                       f"your own machine for longer runs.")

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
                return None, refused(f"⏳ {err}")
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
            return refused(f"⏳ {err}")
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

    def family_knobs(self, sid: str) -> list[dict]:
        """The live knobs of the visitor's family (pix2pix: lambda_L1), for the form's family-knob sliders:
        name, label, low, high, value."""
        config, knobs = self._current(sid)
        return [{"name": name, "label": label, "low": low, "high": high, "value": knobs.get(name),
                 "step": 10.0 ** math.floor(math.log10((high - low) / 200))}
                for name, (label, low, high, _) in family_class(config.family).KNOBS.items()]

    def set_family_knob(self, sid: str, index, value) -> Reply:
        """Change the visitor's family's index-th own knob (the form's family-knob slider ``index``)."""
        names = [k["name"] for k in self.family_knobs(sid)]
        i = whole_number(index, 0, len(names) - 1)
        if i is None:
            return refused("⚠ this run has no such setting")
        return self.set_knob(sid, names[i], value)

    def set_knob(self, sid: str, name: str, value) -> Reply:
        """Change one live setting (shared, or the visitor's family's own); with no trainer yet it goes into the
        setup. Bad values change nothing."""
        return self._set_knob(sid, name, value)[0]

    def _set_knob(self, sid: str, name: str, value, *, log_lr: bool = True) -> tuple:
        """(Reply, the setting's value now: the new one when accepted (a live run applies it before its next step),
        else the one in use)."""
        config, knobs = self._current(sid)
        family_knobs = family_class(config.family).KNOBS
        if name not in LIVE_KNOBS and name not in family_knobs:
            return refused(f"⚠ {str(name)[:40]} is not a live setting of this run"), None
        if name in ("lr_g", "lr_d") and log_lr:
            value = lr_from_log(value)
        s = self.registry.session(sid)
        trainer = s.live_trainer
        try:
            if trainer is not None:
                knobs = trainer.set_knobs(**{name: value})
            else:
                config, knobs = self._current(sid)
                knobs = knobs.with_changes(**{name: value})
                s.setup = (config, knobs)
        except (ConfigError, TypeError) as err:
            return refused(f"⚠ {public_text(err)}"), self.knob(sid, name)
        shown = knobs.get(name)
        label = KNOB_LABELS.get(name) or family_knobs[name][0]
        return done(f"{label} = {shown:.2e}" if name in ("lr_g", "lr_d") else f"{label} = {shown}"), shown

    def set_lr(self, sid: str, name: str, typed) -> tuple:
        """A learning rate as people type it ("0.001", "1e-3", "3e-4"), within the slider's LR_RANGE: (Reply, the
        run's lr afterwards). A refusal changes nothing and gives back the lr in use, so the box shows it again."""
        if name not in ("lr_g", "lr_d"):
            return refused(f"⚠ {str(name)[:40]} is not a learning rate"), None
        try:
            lr = float(str(typed).strip())
        except ValueError:
            lr = float("nan")
        low, high = LR_RANGE
        if not (math.isfinite(lr) and low <= lr <= high):
            return (refused(f"⚠ type a learning rate from {low:g} to {high:g}, such as 0.001 or 2e-4; got "
                            f"{str(typed)[:20]!r}"), self.knob(sid, name))
        return self._set_knob(sid, name, lr, log_lr=False)     # as typed: no log10 round trip

    def set_lr_log(self, sid: str, name: str, value) -> tuple:
        """The slider's log10(lr): (Reply, the run's lr afterwards)."""
        return self._set_knob(sid, name, value)

    def knob(self, sid: str, name: str):
        """One setting's value in the visitor's run (accepted changes included) or setup."""
        trainer = self.registry.session(sid).live_trainer
        if trainer is not None:
            return trainer.knobs_now().get(name)
        return self._current(sid)[1].get(name)

    def set_knobs(self, sid: str, changes: dict) -> dict:
        """API form: several knobs at once, lrs given directly (not log10). Returns the knobs or an error."""
        trainer, problem = self._trainer(sid)
        if problem:
            return {"ok": False, "error": problem}
        try:
            knobs = trainer.set_knobs(**changes)
        except (ConfigError, TypeError) as err:
            return {"ok": False, "error": str(err)}
        return {"ok": True, "knobs": knobs.to_dict()}

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

    def timeline_frame(self, sid: str, index) -> str:
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            return image_html(None, "No frames yet.")
        snap = trainer.snapshot()
        if not snap.timeline_frames:
            return image_html(None, "No frames yet: they are taken every few steps.")
        i = whole_number(index, -2**62, 2**62)
        i = len(snap.timeline_frames) - 1 if i is None else int(np.clip(i, 0, len(snap.timeline_frames) - 1))
        step = snap.timeline_steps[i]
        return image_html(snap.timeline_frames[i], f"frame {i + 1} of {len(snap.timeline_frames)}: step {step:,}"
                                                   f" · {rewind_note(snap, step)}", alt="past samples",
                          columns=column_labels(snap.visuals or {}, (snap.visuals or {}).get("views", ("",))[0]))

    def rewind(self, sid: str, index) -> Reply:
        """Rewind the visitor's run to the timeline frame ``index`` (the nearest restore point at or before it)."""
        trainer = self.registry.session(sid).live_trainer
        if trainer is None or not trainer.snapshot().timeline_steps:
            return refused("Nothing to rewind yet.")
        steps = trainer.snapshot().timeline_steps
        i = whole_number(index, -2**62, 2**62)
        if i is None:
            return refused("⚠ pick a frame on the timeline first")
        i = int(np.clip(i, 0, len(steps) - 1))
        s = self.registry.session(sid)
        before = trainer.snapshot()
        try:
            back = trainer.rewind(steps[i])
        except ValueError:
            return refused("⚠ that frame is older than the oldest restore point kept for this run")
        after = trainer.snapshot()
        spend(s, before, after)
        self._apply_budget(s, trainer, paid_from=(min(s.paid_from_step, after.step),
                                                  min(s.paid_from_seconds, after.train_seconds)))
        s.sent.clear()
        nearest = "" if back == steps[i] else f" (the nearest restore point at or before step {steps[i]:,})"
        return done(f"Rewound to step {back:,}{nearest}: weights, optimisers and random state as they were; the "
                    f"curves, frames and quality after it are gone. Change a knob, then press Start to take a "
                    f"different path.")

    def timeline_position(self, sid: str) -> tuple:
        """(frames on the timeline, the last frame's index) after the run moved (a rewind)."""
        trainer = self.registry.session(sid).live_trainer
        n = len(trainer.snapshot().timeline_steps) if trainer is not None else 0
        return n, max(n - 1, 0)

    def export_gif(self, sid: str) -> tuple[Optional[str], str]:
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None or not trainer.snapshot().timeline_frames:
            return None, "No frames to export yet."
        snap = trainer.snapshot()
        name = f"gan-{snap.config.data}-{snap.config.model}-{snap.step}.gif"
        path = replace_export(s, "gif", name, gif_bytes(list(snap.timeline_frames), duration_ms=180))
        return str(path), f"GIF of {len(snap.timeline_frames)} frames (steps {snap.timeline_steps[0]}–{snap.timeline_steps[-1]})."

    def checkpoint_file(self, sid: str) -> tuple[Optional[str], str]:
        """Save the visitor's run to the save folder (atomically; kept across restarts) and offer it for download.
        The file name carries a random token, so one visitor cannot guess another's."""
        import secrets

        from ganengine.checkpoint import checkpoint_bytes, write_atomic
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            return None, "Nothing to save yet."
        too_soon = self.saves.check_can_save(s, time.monotonic())
        if too_soon:
            return None, too_soon
        with trainer.with_run() as run:
            data = checkpoint_bytes(run)
            name = f"gan-{run.config.data}-{run.config.model}-step{run.step}-{secrets.token_hex(8)}.pt"
        path = write_atomic(Path(self.settings.save_dir) / name, data)
        self.saves.record(s, path, time.monotonic())
        remove_stale_temp_files(self.settings.save_dir)
        size_mb = len(data) / 2**20
        if len(data) > self.settings.max_upload_bytes:
            return str(path.resolve()), (f"Checkpoint saved ({size_mb:.1f} MiB): download it. It is over this "
                                         f"server's {self.settings.max_upload_mb} MiB upload limit, so load it with "
                                         f"the CLI (up to 200 MiB) or a server with a larger GAN_MAX_UPLOAD_MB.")
        return str(path.resolve()), (f"Checkpoint saved ({size_mb:.1f} MiB): download it, and load it in "
                                     f"the Explore tab or the CLI.")


KNOB_LABELS = {"lr_g": "G learning rate", "lr_d": "D learning rate", "d_steps": "D steps per G step", "loss": "loss",
               "batch_size": "batch size", "label_smoothing": "label smoothing", "r1_weight": "R1 weight",
               "ema_decay": "EMA decay", "lr_decay_steps": "lr decay steps"}
