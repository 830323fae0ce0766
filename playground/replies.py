"""Reply: what a Train-tab command tells the visitor, and whether it did what was asked.

A Reply is the sentence shown on the page (a str, so Gradio and the tests use it as text) with an ``ok`` flag that
the API reports; nothing decides success by reading the sentence. Refusals start with a sign for the eye (⚠ a
problem, ◷ no free training slot), but the flag is what counts. Every sign is one that common text fonts hold
(DejaVu Sans has them all): an emoji such as an hourglass draws as an empty box where no emoji font is installed
(Debian's headless Chromium).
"""
from __future__ import annotations


class Reply(str):
    ok: bool

    def __new__(cls, text: str, ok: bool = True):
        reply = super().__new__(cls, text)
        reply.ok = ok
        return reply


def done(text: str) -> Reply:
    """The action happened (or there was nothing to do); text says what."""
    return Reply(text, True)


def refused(text: str) -> Reply:
    """The action did not happen and nothing changed; text says why."""
    return Reply(text, False)
