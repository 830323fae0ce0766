"""Small Gradio helpers shared by the tabs: the session id, and a guard so no traceback ever reaches a visitor."""
from __future__ import annotations

import functools
import sys
import traceback

import gradio as gr


def session_id(request: gr.Request | None) -> str:
    """The browser session's id (one per open page; one per gradio_client Client)."""
    sid = getattr(request, "session_hash", None) if request is not None else None
    if not sid:
        raise gr.Error("This action needs a browser session; reload the page.")
    return sid


def guarded(on_error):
    """Run a handler; on an unexpected exception log it and return ``on_error(message)`` instead of raising.

    on_error receives one friendly sentence and returns the handler's outputs (usually gr.skip() for most of them and
    the sentence for a message box), so a failing handler shows one clear message and changes nothing else."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as err:  # the visitor sees one sentence; the log keeps the details
                traceback.print_exc(file=sys.stderr)
                return on_error(f"⚠ Something went wrong ({type(err).__name__}: {str(err)[:160]}). "
                                f"The rest of the page keeps working.")
        return inner
    return wrap


def skips(n: int):
    return tuple(gr.skip() for _ in range(n))
