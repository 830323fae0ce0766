"""The setup form's and API's values checked where they enter: whole numbers, learning rates, error sentences
without the server's paths."""
from __future__ import annotations

import math
import re
import tempfile
from typing import Optional


def whole_number(value, low: int, high: int) -> Optional[int]:
    """value as an int in [low, high], or None (bools, NaN, infinities, fractions and text are refused)."""
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(f) or f != int(f) or not low <= f <= high:
        return None
    return int(f)


_TEMP_PATH = re.compile(re.escape(tempfile.gettempdir().rstrip("/")) + r"/[^\s'\",;)]*")


def public_text(err) -> str:
    """An error's sentence without the server's temporary paths (where uploads are unpacked)."""
    return _TEMP_PATH.sub("your upload", str(err))


def os_reason(err: OSError) -> str:
    """An OSError's reason without the server's file paths."""
    return err.strerror or type(err).__name__


LR_RANGE = (1e-5, 1e-2)     # the learning-rate sliders' range (their value is log10 of it)


def lr_from_log(value) -> float:
    """Slider value log10(lr) -> lr; anything not a finite number is refused by Knobs' validation."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return 10.0 ** v if math.isfinite(v) else float("nan")
