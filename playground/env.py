"""Whole-number settings read from environment variables at start-up, with a clear sentence for a bad value."""
from __future__ import annotations

import os


def env_int(name: str, default: int) -> int:
    """The variable ``name`` as a whole number of at least 1 (a smaller one counts as 1), or ``default`` when it is
    unset or empty. A value that is not a whole number stops the app with SystemExit and one sentence."""
    raw = os.environ.get(name, "").strip()
    try:
        return max(1, int(raw)) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None
