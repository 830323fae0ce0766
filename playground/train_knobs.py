"""The Train tab's live settings: change one knob (shared, or the visitor's family's own), a learning rate as people
type it or as the slider's log10, several at once (the API). Bad values change nothing and say why. A mixin of
TrainService (it uses ``self.registry``, ``self._current`` and ``self._trainer``).
"""
from __future__ import annotations

import math

from ganengine.config import ConfigError
from ganengine.families import family_class
from playground.form_values import LR_RANGE, lr_from_log, public_text, whole_number
from playground.replies import Reply, done, refused

LIVE_KNOBS = ("lr_g", "lr_d", "d_steps", "loss", "batch_size", "label_smoothing", "r1_weight", "ema_decay",
              "lr_decay_steps")
KNOB_LABELS = {"lr_g": "G learning rate", "lr_d": "D learning rate", "d_steps": "D steps per G step", "loss": "loss",
               "batch_size": "batch size", "label_smoothing": "label smoothing", "r1_weight": "R1 weight",
               "ema_decay": "EMA decay", "lr_decay_steps": "lr decay steps"}


class KnobCommands:
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
