"""ganengine: train GANs in a background thread that a UI can steer live, or headless from the CLI.

The engine never imports a UI toolkit. A UI drives it through :class:`Trainer` commands and reads it
through :meth:`Trainer.snapshot`, which returns plain numpy arrays and uint8 images.
Thread policy (headless versus beside a UI): see ganengine.device.
"""
from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.trainer import Trainer

__all__ = ["ConfigError", "Knobs", "RunConfig", "Trainer"]
__version__ = "0.1.0"
