"""Experiments in the URL: the page's address carries the preset, the settings that differ from it and the seed, so a
copied link opens the same experiment (paused, ready to Start). No Gradio here: plain functions over the TrainService.

A link looks like ``/?preset=ring8&seed=3&lr_d=0.001&loss=hinge``: ``preset`` names the starting point, every other
key overrides one of its settings (the setup fields of ganengine.config.RunConfig and the live knobs of Knobs,
a family's own knobs included), ``pace`` the watchable speed, and ``classroom=1`` hides the advanced controls. Only
what differs from the preset is written, so links stay short. Unknown keys are ignored; a bad value is named in the
reply and the preset's value kept. Uploaded data (a points CSV, an image zip) cannot travel in a link: such a run's
link opens the dataset's tuned preset and says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from ganengine.config import ConfigError
from ganengine.presets import PRESETS, get_preset, preset_for_data
from playground.form_values import TRUE_WORDS, typed_like

# The browser's side (run as Gradio `js=` callbacks by the Train tab): the page's address follows the experiment's
# query, other keys of the address kept; "Copy a link" copies the address.
REPLACE_URL_JS = """(query) => {
  if (query === null || query === undefined) return;
  const now = new URLSearchParams(window.location.search), next = new URLSearchParams(query);
  for (const keep of ["__theme", "classroom", "view"]) { if (now.has(keep)) next.set(keep, now.get(keep)); }
  const text = next.toString(), url = window.location.pathname + (text ? "?" + text : "") + window.location.hash;
  if (url !== window.location.pathname + window.location.search + window.location.hash)
    window.history.replaceState(null, "", url);
}"""
COPY_LINK_JS = """() => {
  const url = window.location.href;
  try { navigator.clipboard.writeText(url); } catch (err) {}
  return url;
}"""

SETUP_KEYS = ("data", "model", "latent_dim", "width", "depth", "image_size", "seed", "sample_every", "log_every",
              "phase_steps")
KNOB_KEYS = ("loss", "lr_g", "lr_d", "beta1", "beta2", "d_steps", "batch_size", "label_smoothing", "r1_weight",
             "gp_weight", "ema_decay", "lr_decay_steps", "lr_floor")
UPLOADED_DATA = ("points", "folder")
MAX_VALUE_CHARS = 40


@dataclass
class OpenedLink:
    """What a link asks for: the preset, the setup over it, the page flags, and sentences about what was ignored."""
    preset: str
    setup: dict
    classroom: bool = False
    pace: float = 0.0
    notes: list = field(default_factory=list)


@lru_cache(maxsize=64)
def _preset_values(name: str) -> tuple:
    """A preset's setup fields and knobs as sorted (name, value) pairs (cached: presets are constants)."""
    config, knobs = (get_preset(name) if name in PRESETS else preset_for_data(name.split("@")[-1])).build()
    return tuple(sorted({**config.to_dict(), **knobs.to_dict()}.items()))


def preset_values(name: str) -> dict:
    return dict(_preset_values(name))


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


LINK_PACES = (0.0, 20.0, 5.0, 1.0)   # the Train tab's Speed menu (steps/s, 0 = full speed): a link asks for one


def query_for(config, knobs, preset: str = "", *, pace: float = 0.0, classroom: bool = False) -> str:
    """The query string of an experiment: ``preset`` (when the run's data is the preset's) and every setting that
    differs from it. ``config``/``knobs``: the run's RunConfig and Knobs."""
    current = {**config.to_dict(), **knobs.to_dict()}
    if config.data in UPLOADED_DATA:
        preset = ""
    if not preset or preset not in PRESETS or PRESETS[preset].config.get("data") != config.data:
        try:
            preset = preset_for_data(config.data if config.data not in UPLOADED_DATA else "ring8").name
        except ConfigError:
            return ""
    base = preset_values(preset)
    pairs = [("preset", preset.split("@")[0])] if "@" not in preset else [("data", config.data)]
    for key in SETUP_KEYS + KNOB_KEYS + tuple(k for k, _ in knobs.extra):
        if key == "data" or key not in current:
            continue
        if _differs(current[key], base.get(key)):
            pairs.append((key, _text(current[key])))
    if pace:
        pairs.append(("pace", _text(float(pace))))
    if classroom:
        pairs.append(("classroom", "1"))
    return urlencode(pairs)


def _differs(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)):
        return not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return a != b


def read_query(params: dict) -> OpenedLink | None:
    """The experiment a link asks for, or None when the link names none (a plain visit). ``params``: the query's
    key -> value (first value of each key)."""
    params = {str(k): str(v)[:MAX_VALUE_CHARS] for k, v in params.items()}
    classroom = params.get("classroom", "").lower() in TRUE_WORDS
    asked = [k for k in params if k in ("preset", "pace") or k in SETUP_KEYS or k in KNOB_KEYS or _family_knob(k)]
    if not asked:
        return OpenedLink(preset="", setup={}, classroom=True) if classroom else None
    notes = []
    name = params.get("preset", "")
    if name and name not in PRESETS:
        notes.append(f"there is no preset {name!r}")
        name = ""
    data = params.get("data", "")
    if data in UPLOADED_DATA:
        notes.append("uploaded data cannot travel in a link: upload it again")
        params.pop("data")
    elif data and (not name or data != preset_values(name).get("data")):
        try:
            name = preset_for_data(data).name   # another dataset: start from its tuned settings
        except ConfigError:
            notes.append(f"there is no dataset {data!r}")
            params.pop("data")
    name = name or "ring8"
    base = preset_values(name)
    setup = {}
    for key, text in params.items():
        if key in ("preset", "pace", "classroom"):
            continue
        if key not in base:
            if _family_knob(key):
                notes.append(f"{key} is not a setting of this family")
            continue
        try:
            setup[key] = typed_like(text, base[key], finite=True)   # the preset's value's type
        except ValueError as err:
            notes.append(f"{key}={text!r} was ignored ({err})")
    pace = 0.0
    if "pace" in params:
        try:
            asked = float(params["pace"])
        except ValueError:
            asked = math.nan
        if not math.isfinite(asked) or asked < 0:
            notes.append(f"pace={params['pace']!r} was ignored (steps per second: one of "
                         f"{', '.join(_text(v) for v in LINK_PACES)})")
        else:
            pace = min(LINK_PACES, key=lambda v: abs(v - asked))   # the nearest speed the page offers
            if pace != asked:
                notes.append(f"pace={params['pace']} became {_text(pace)}, the nearest speed the page offers")
    return OpenedLink(preset=name, setup=setup, classroom=classroom, pace=pace, notes=notes)


def _family_knob(key: str) -> bool:
    from ganengine.families import family_knob_specs
    return key in family_knob_specs()


# ---- over the Train service (a visitor's session) -------------------------------------------------------------
def link_query(service, sid: str) -> str:
    """The query string of the visitor's experiment now (their trainer's settings, else their setup)."""
    config, knobs = service.current(sid)
    s = service.registry.session(sid)
    if s.live_trainer is not None:
        knobs = s.live_trainer.knobs_now()     # accepted changes included, before the run applies them
    return query_for(config, knobs, s.preset, pace=s.pace)


def open_link(service, sid: str, params: dict):
    """Set the visitor up as a link asks (paused, ready to Start). Returns (the setup now, for the form; or None for
    a plain visit), the OpenedLink, and the reply. A setup the engine refuses falls back to the preset alone."""
    opened = read_query(params)
    if opened is None or not opened.preset:
        return None, opened, None
    from playground.replies import done, refused
    base = service.preset_setup(opened.preset)
    s = service.registry.session(sid)
    reply = service.apply_setup(sid, {**base, **opened.setup}, base=base)
    if not reply.ok:
        opened.notes.append(str(reply).lstrip("⚠ ").rstrip("."))
        opened.setup = {}
        reply = service.apply_setup(sid, base, base=base)
        if not reply.ok:
            return None, opened, reply
    s.preset = opened.preset
    if opened.pace:
        paced = service.set_pace(sid, opened.pace)
        if not paced.ok:
            opened.notes.append(str(paced).lstrip("⚠ ").rstrip("."))
    config, knobs = service.current(sid)
    setup = {**config.to_dict(), **knobs.to_dict()}
    changed = ", ".join(f"{k} {v}" for k, v in opened.setup.items())
    text = (f"Opened from a link: **{get_preset(opened.preset).title if opened.preset in PRESETS else opened.preset}**"
            f"{' with ' + changed if changed else ''}. Paused: press **Start**.")
    if opened.notes:
        return setup, opened, refused(text + " Not applied: " + "; ".join(opened.notes) + ".")
    return setup, opened, done(text)
