"""Run configuration: what a run *is* (RunConfig) and the knobs that may change while it runs (Knobs).

Changing a RunConfig field rebuilds models and data; changing a Knob never does (TensorFlow Playground's rule:
learning-rate changes never reset, structural changes do). Both validate every field and raise ConfigError with
one clear sentence, so a UI or a CLI can show it as is.
"""
from __future__ import annotations

import math
import reprlib
from dataclasses import asdict, dataclass, fields, replace

DATASETS = ("ring8", "grid25", "spiral", "moons", "points",  # 2-D
            "mnist", "mnist-full", "fashion-mnist", "cifar10", "celeba", "folder")  # images
POINT_DATASETS = DATASETS[:5]
MODELS = ("mlp", "dcgan", "cgan")       # the gan family's models
PAIRED_TASKS = ("edges2digits", "blur2digits")  # the pix2pix family's data (ganengine.data.paired)
UNPAIRED_TASKS = ("thin2thick",)        # the cyclegan family's data (ganengine.data.unpaired)
STYLE_TASKS = ("digit-styles",)         # the styles family's data (ganengine.data.styles)
SR_TASKS = ("lowres7", "lowres14")       # the srgan family's data (ganengine.data.lowres)
PROGRESSIVE_DATA = ("mnist32", "faces")  # the progan family's data (ganengine.data.faces)
COUPLED_TASKS = ("digits-negatives", "digits-edges")  # the cogan family's data (ganengine.data.unpaired)
COUPLED_MODELS = ("shared3", "shared2", "shared1", "shared0")  # cogan: layers shared by its Gs and its Ds
VIDEO_TASKS = ("moving-digits",)        # the vid2vid family's data (ganengine.data.moving)
FAMILIES = ("gan", "pix2pix", "cyclegan", "styles", "srgan", "progan", "cogan", "vid2vid")  # ganengine.families (the registry)
LOSSES = ("minimax", "ns", "lsgan", "hinge", "wgan-gp")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_SEED = 2**31 - 1
MIN_BATCH = 2  # BatchNorm in training mode needs two samples per channel (batch 1 crashes BatchNorm1d)


class ConfigError(ValueError):
    """A setting a user gave is not usable; the message says which and why."""


def _check_number(name: str, value, low: float, high: float, *, integer: bool = False, low_open: bool = False,
                  why_low: str = ""):
    """Return value as int/float if low <= value <= high (low < value if low_open), else raise ConfigError
    (why_low, if given, is added to the sentence when the value is too low).

    Booleans are refused (JSON ``true`` must not become 1), as are NaN, infinities and numbers too large for a float
    (a string such as "1e999" or an int such as 10**400)."""
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        raise ConfigError(f"{name} must be a number, got the true/false value {value!r}")
    if not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{name} must be a number, got {reprlib.repr(value)}") from None
    if isinstance(value, int) and not -2**53 <= value <= 2**53:  # beyond every range here, and beyond float's reach
        raise ConfigError(f"{name} must be in [{low:g}, {high:g}], got a number near "
                          f"10^{int(value.bit_length() * 0.30103)}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}")
    if integer:
        if value != int(value):
            raise ConfigError(f"{name} must be a whole number, got {value}")
        value = int(value)
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        bracket = "(" if low_open else "["
        why = f" ({why_low})" if too_low and why_low else ""
        raise ConfigError(f"{name} must be in {bracket}{low:g}, {high:g}]{why}, got {value:g}")
    return value


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Structural settings: changing any of these rebuilds the run."""
    family: str = "gan"            # GAN family, one of FAMILIES (ganengine.families): what data and models fit
    data: str = "ring8"            # dataset name: DATASETS for gan, PAIRED_TASKS for pix2pix, UNPAIRED_TASKS cyclegan,
                                   # STYLE_TASKS styles, SR_TASKS srgan, COUPLED_TASKS cogan, VIDEO_TASKS vid2vid
    model: str = "mlp"             # the gan family's model, one of MODELS; cogan: how many layers are shared,
                                   # one of COUPLED_MODELS; other families ignore it
    latent_dim: int = 64           # size of the noise vector z
    width: int = 128               # hidden width (mlp) or base channel count (dcgan, cgan)
    depth: int = 3                 # hidden layers of the 2-D MLPs; pix2pix: PatchGAN layers; cyclegan, srgan: G's res blocks
    image_size: int = 0            # image side in pixels; 0 = the dataset's own (28 MNIST, 32 CIFAR-10, 64 CelebA)
    seed: int = 0                  # fixes init, data order and noise
    device: str = "auto"           # auto = cuda, then mps, then cpu
    data_root: str = "data"        # folder where torchvision datasets are looked for / downloaded to
    points_path: str = ""          # CSV or .npy of N x 2 points, for data="points"
    folder_path: str = ""          # image folder, for data="folder"
    download: bool = True          # let torchvision download when online
    sample_every: int = 100        # steps between fixed-noise grids (and 2-D field renders)
    log_every: int = 20            # steps between scalar gathers (one host sync each)
    phase_steps: int = 400         # progan: steps of each growth phase (a fade-in or a stable phase; its schedule)

    def __post_init__(self):
        _check_choice("family", self.family, FAMILIES)
        _check_choice("device", self.device, DEVICES)
        object.__setattr__(self, "latent_dim", _check_number("latent size", self.latent_dim, 1, 1024, integer=True))
        object.__setattr__(self, "width", _check_number("width", self.width, 4, 2048, integer=True))
        object.__setattr__(self, "depth", _check_number("depth", self.depth, 1, 8, integer=True))
        object.__setattr__(self, "image_size", _check_number("image size", self.image_size, 0, 256, integer=True))
        object.__setattr__(self, "seed", _check_number("seed", self.seed, 0, MAX_SEED, integer=True))
        object.__setattr__(self, "sample_every", _check_number("sample interval", self.sample_every, 1, 10**6, integer=True))
        object.__setattr__(self, "log_every", _check_number("log interval", self.log_every, 1, 10**4, integer=True))
        object.__setattr__(self, "phase_steps", _check_number("steps per growth phase", self.phase_steps, 1, 10**7,
                                                              integer=True))
        from ganengine.families import family_class  # the family says which data and models fit it
        family_class(self.family).check_config(self)

    @property
    def is_points(self) -> bool:
        return self.data in POINT_DATASETS

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def with_changes(self, **changes) -> "RunConfig":
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class Knobs:
    """Settings that may change while a run trains, with no reset. Each change is recorded as an event."""
    loss: str = "ns"               # one of LOSSES (ganengine.losses)
    lr_g: float = 2e-4             # Adam learning rate of G
    lr_d: float = 2e-4             # Adam learning rate of D
    beta1: float = 0.5             # Adam beta1 (DCGAN: 0.5)
    beta2: float = 0.999           # Adam beta2
    d_steps: int = 1               # D updates per G update
    batch_size: int = 64
    label_smoothing: float = 0.0   # one-sided: real target 1 - s (Salimans et al. 2016)
    r1_weight: float = 0.0         # gamma of the R1 penalty gamma/2 E||grad D(x)||^2 (Mescheder et al. 2018)
    gp_weight: float = 10.0        # lambda of WGAN-GP's gradient penalty (Gulrajani et al. 2017)
    ema_decay: float = 0.0         # EMA of G's weights for samples; 0 = off (Karras et al. 2018)
    lr_decay_steps: int = 0        # linear decay of both lrs to lr_floor x lr over this many steps; 0 = off
    lr_floor: float = 0.1          # fraction of the lr left at the end of the decay
    extra: tuple = ()              # a family's own live knobs, sorted (name, value) pairs (ganengine.families)

    def __post_init__(self):
        _check_choice("loss", self.loss, LOSSES)
        if self.extra:
            from ganengine.families import family_knob_specs
            specs, pairs = family_knob_specs(), dict(self.extra)
            unknown = set(pairs) - set(specs)
            if unknown:
                raise ConfigError(f"not a live setting: {', '.join(sorted(unknown))}")
            object.__setattr__(self, "extra", tuple(sorted(
                (name, _check_number(specs[name][0], v, specs[name][1], specs[name][2])) for name, v in pairs.items())))
        checks = {
            "lr_g": ("G learning rate", 0, 1, False, True), "lr_d": ("D learning rate", 0, 1, False, True),
            "beta1": ("Adam beta1", 0, 0.999, False, False), "beta2": ("Adam beta2", 0, 0.9999, False, False),
            "d_steps": ("D steps per G step", 1, 20, True, False), "batch_size": ("batch size", MIN_BATCH, 4096, True, False),
            "label_smoothing": ("label smoothing", 0, 0.5, False, False), "r1_weight": ("R1 weight", 0, 1000, False, False),
            "gp_weight": ("gradient-penalty weight", 0, 1000, False, False),
            "ema_decay": ("EMA decay", 0, 0.99999, False, False),
            "lr_decay_steps": ("lr decay steps", 0, 10**9, True, False), "lr_floor": ("lr floor", 0, 1, False, False),
        }
        for name, (label, low, high, integer, low_open) in checks.items():
            why_low = "BatchNorm layers need two samples to normalise a batch" if name == "batch_size" else ""
            value = _check_number(label, getattr(self, name), low, high, integer=integer, low_open=low_open,
                                  why_low=why_low)
            object.__setattr__(self, name, value)

    def get(self, name: str):
        """A knob by name, shared or the family's own."""
        return dict(self.extra)[name] if name not in _KNOB_FIELDS else getattr(self, name)

    def to_dict(self) -> dict:
        """Every knob by name, the family's own ones included (flat, JSON-able)."""
        d = {f: getattr(self, f) for f in _KNOB_FIELDS}
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Knobs":
        from ganengine.families import family_knob_specs
        specs = family_knob_specs()
        return cls(**{k: v for k, v in d.items() if k in _KNOB_FIELDS},
                   extra=tuple((k, v) for k, v in d.items() if k in specs))

    def for_family(self, family_cls) -> "Knobs":
        """These knobs with the family's own: its defaults where not set; ConfigError for another family's."""
        pairs = dict(self.extra)
        foreign = set(pairs) - set(family_cls.KNOBS)
        if foreign:
            raise ConfigError(f"{', '.join(sorted(foreign))} is not a setting of the {family_cls.name} family")
        merged = {name: pairs.get(name, spec[3]) for name, spec in family_cls.KNOBS.items()}
        return self if merged == pairs else replace(self, extra=tuple(merged.items()))

    def with_changes(self, **changes) -> "Knobs":
        own = dict(self.extra)
        unknown = set(changes) - set(_KNOB_FIELDS) - set(own)
        if unknown:
            raise ConfigError(f"not a live setting: {', '.join(sorted(unknown))}")
        extra = {k: v for k, v in changes.items() if k in own}
        if extra:
            changes = {k: v for k, v in changes.items() if k not in own}
            changes["extra"] = tuple({**own, **extra}.items())
        return replace(self, **changes)


_KNOB_FIELDS = tuple(f.name for f in fields(Knobs) if f.name != "extra")
