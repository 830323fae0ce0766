"""GAN families, one file each, on one seam (issue 11; ../shared/guide/FAMILIES.md section 1).

A family (ganengine.families.base.Family) owns its nets, its live knobs, its data, its phases (the Step buttons),
its named scalars, its views and its metrics; ganengine.run.GANRun owns everything they share. Nothing outside a
family file asks which family a run is: it asks the family (through this registry) instead.
"""
from __future__ import annotations

import importlib

from ganengine.config import ConfigError

# name -> "module:class", imported on first use (ganengine.config validates through here without import cycles)
FAMILIES = {"gan": "ganengine.families.gan:GANFamily"}


def family_class(name: str):
    """The Family subclass called ``name``; ConfigError if there is none."""
    if name not in FAMILIES:
        raise ConfigError(f"family must be one of {', '.join(FAMILIES)}; got {name!r}")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def family_knob_specs() -> dict:
    """Every family's own live knobs: name -> (label, low, high, default)."""
    specs = {}
    for name in FAMILIES:
        specs.update(family_class(name).KNOBS)
    return specs
