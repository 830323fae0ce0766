"""The setup form's, API's and links' values checked where they enter: whole numbers, typed text, learning rates,
error sentences without the server's paths."""
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


TRUE_WORDS = ("1", "true", "yes", "on")
NOT_WHOLE = "not a whole number"


def typed_like(text: str, like, *, whole: bool = False, finite: bool = False):
    """``text`` (a setting as a visitor typed it) in the type of ``like``, the setting's current value: a bool from
    TRUE_WORDS, a whole number for an int (or when ``whole``), a float for a float, else the text itself. ValueError
    with a short reason: "not a number", NOT_WHOLE, or (``finite``) "not a finite number"; the callers' own checks
    judge the range."""
    if isinstance(like, bool):
        return text.lower() in TRUE_WORDS
    if not isinstance(like, (int, float)):
        return text
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if whole or isinstance(like, int):
        if not number.is_integer():
            raise ValueError(NOT_WHOLE)
        return int(number)
    if finite and not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


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
