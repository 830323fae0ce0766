"""GAN families, one file each, on one seam (issue 11; ../shared/guide/FAMILIES.md section 1).

A family (ganengine.families.base.Family) owns its nets, its live knobs, its data, its phases (the Step buttons),
its named scalars, its views and its metrics; ganengine.run.GANRun owns everything they share. Nothing outside a
family file asks which family a run is: it asks the family (through this registry) instead.
"""
from __future__ import annotations

import importlib

from ganengine.config import ConfigError

# name -> "module:class", imported on first use (ganengine.config validates through here without import cycles)
FAMILIES = {"gan": "ganengine.families.gan:GANFamily", "pix2pix": "ganengine.families.pix2pix:Pix2PixFamily",
            "cyclegan": "ganengine.families.cyclegan:CycleGANFamily",
            "styles": "ganengine.families.styles:StylesFamily",
            "srgan": "ganengine.families.srgan:SRGANFamily", "progan": "ganengine.families.progan:ProGANFamily",
            "cogan": "ganengine.families.cogan:CoGANFamily", "vid2vid": "ganengine.families.vid2vid:Vid2VidFamily"}


def family_class(name: str):
    """The Family subclass called ``name``; ConfigError if there is none."""
    if name not in FAMILIES:
        raise ConfigError(f"family must be one of {', '.join(FAMILIES)}; got {name!r}")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def family_for_data(data: str) -> str:
    """The family that trains on the dataset ``data``; ConfigError if none does."""
    for name in FAMILIES:
        if data in family_class(name).datasets:
            return name
    raise ConfigError(f"no GAN family trains on the dataset {data!r}")


def build_nets(family, config, spec) -> dict:
    """A family's nets on the CPU (or the meta device inside ``with torch.device("meta")``). They are first built on
    the meta device, which allocates nothing, and refused with ConfigError if one has more than MAX_MODEL_PARAMS
    parameters (ganengine.models): a form or a checkpoint cannot make the engine allocate a huge model."""
    import torch

    from ganengine.models import MAX_MODEL_PARAMS, count_parameters
    with torch.device("meta"):
        nets = family.build_nets(config, spec)
    for name, net in nets.items():
        n = count_parameters(net)
        if n > MAX_MODEL_PARAMS:
            raise ConfigError(f"this setup's {name} would have {n:,} parameters; the limit is {MAX_MODEL_PARAMS:,} "
                              f"per network: lower the width or the image size")
    if torch.get_default_device().type == "meta":
        return nets
    return family.build_nets(config, spec)


def family_knob_specs() -> dict:
    """Every family's own live knobs: name -> (label, low, high, default)."""
    specs = {}
    for name in FAMILIES:
        specs.update(family_class(name).KNOBS)
    return specs
