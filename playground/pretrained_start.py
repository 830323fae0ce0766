"""A trained GAN the moment the Train tab opens: the bundled conditional-digits run (assets/pretrained/, made by
assets/make_pretrained.py with the engine's own CLI) is previewed before any training, and one button continues it
in the visitor's trainer, paused at its step, as an uploaded checkpoint would be (read with weights_only=True)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from playground.views import image_html

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "assets" / "pretrained"
TRAINED_RUN = PRETRAINED_DIR / "cgan_digits.pt"
TRAINED_PICTURE = PRETRAINED_DIR / "cgan_digits.png"


def trained_run_path() -> str:
    """The bundled run's checkpoint ("" when the assets are missing)."""
    return str(TRAINED_RUN) if TRAINED_RUN.is_file() else ""


@lru_cache(maxsize=1)
def _facts() -> dict:
    try:
        return json.loads((PRETRAINED_DIR / "metrics.json").read_text()).get(TRAINED_RUN.name, {})
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=1)
def preview_html() -> str:
    """The bundled run's samples with a caption that says what they are and what the two buttons do."""
    if not TRAINED_PICTURE.is_file():
        return image_html(None, "The fixed-noise samples appear here.")
    from PIL import Image
    picture = np.asarray(Image.open(TRAINED_PICTURE).convert("RGB"))
    facts = _facts()
    trained = (f" after {facts['step']:,} steps ({facts['train_seconds'] / 60:.0f} minutes on a 2-core CPU)"
               if "step" in facts and "train_seconds" in facts else "")
    return image_html(picture, f"A trained GAN, before you train anything: the bundled conditional DCGAN{trained}, "
                               f"one row per noise vector, one column per digit. <b>Open the trained GAN</b> "
                               f"continues it here; <b>▶ Start</b> trains the chosen preset from scratch.",
                      alt="a trained conditional GAN's digits")
