"""An ASGI middleware that caps how many events one visitor can have waiting or running: HTTP 429 beyond that.

Why: Gradio's queue is first come, first served with one global `max_size` (256 in app.py). One client flooding
/gradio_api/queue/join filled it, and other visitors got "503 Queue is full" in 52 of 57 calls.

What is capped: every request that makes Gradio run an event, i.e. POST /gradio_api/queue/join (the page and
gradio_client), /call/<api_name> and /call/v2/<api_name> (the REST API; they join the queue too) and /run/<name> and
/api/<name> (direct calls that skip the queue: the page's queue=False events such as the refresh tick, and, locally,
any event when the queue's api_open is on). At most `MAX_PER_SESSION` such events per session hash and
`MAX_PER_CLIENT` per client address (so rotating session hashes does not help; the load test's 16 visitors from
127.0.0.1 with one or two calls each stay well under it).

How events are counted, at each join, with no bookkeeping that could drift: the events Gradio itself holds, i.e.
those waiting in its queue (`blocks._queue.event_queue_per_concurrency_id[*].queue`) and those being processed
(`blocks._queue.active_jobs`), grouped by `event.session_hash` and by the address of the request that joined them;
plus requests that this middleware has let through and that have not answered yet (a join being pushed, a direct
/run call being processed). An event leaves both structures as soon as Gradio finishes or cancels it, whether or not
the client ever reads its result, so a finished event never counts. Those are Gradio internals (6.31.0); if they are
missing the middleware lets everything through and warns once, and tests/test_server_guard.py fails.

Client address: the socket peer; on a Hugging Face Space (SPACE_ID set) every request comes from the Space's proxy
(an internal 10.x address), so there the first X-Forwarded-For entry is used instead. The client can forge that entry:
on a Space the per-client cap is best effort, the per-session cap and the queue's max_size still hold.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from collections import Counter

from playground.http_limits import MAX_BODY_BYTES, BodyTooLarge, header, read_body, replay, send_error

MAX_PER_SESSION = 8     # events one session hash may have waiting or running at once
MAX_PER_CLIENT = 64     # the same for one client address, over all its sessions
EVENT_PATHS = re.compile(r"/gradio_api/(queue/join|call/(v2/)?[^/]+|run/[^/]+|api/[^/]+)/?$")


def client_key(scope, trust_forwarded: bool) -> str:
    """The address a request came from (see the module docstring for X-Forwarded-For on a Space)."""
    if trust_forwarded:
        forwarded = header(scope, b"x-forwarded-for")
        if forwarded:
            return forwarded.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "?"


def live_events(queue):
    """The events Gradio's queue holds: waiting (per concurrency group) and being processed."""
    for group in list(queue.event_queue_per_concurrency_id.values()):
        yield from list(group.queue)
    for jobs in list(queue.active_jobs):
        if jobs:
            yield from list(jobs)


class QueueFairness:
    """Refuse a new event (HTTP 429) from a session or client that already has its share waiting or running."""

    def __init__(self, app, per_session: int = MAX_PER_SESSION, per_client: int = MAX_PER_CLIENT,
                 trust_forwarded: bool | None = None):
        self.app, self.per_session, self.per_client = app, per_session, per_client
        self.trust_forwarded = bool(os.environ.get("SPACE_ID")) if trust_forwarded is None else trust_forwarded
        self.pending: Counter = Counter()   # requests let through and not answered yet, by ("s", sid) / ("c", addr)
        self.warned = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or not EVENT_PATHS.search(scope.get("path", "")):
            return await self.app(scope, receive, send)
        try:
            body = await read_body(receive, MAX_BODY_BYTES)
        except BodyTooLarge:
            return await send_error(send, 413, "Request body too large.")
        if body is None:
            return
        keys = [("c", client_key(scope, self.trust_forwarded))]
        sid = session_of(body)
        if sid:
            keys.append(("s", sid))
        refusal = self.refusal(scope, keys)
        if refusal:
            return await send_error(send, 429, refusal)
        for key in keys:
            self.pending[key] += 1
        try:
            await self.app(scope, replay(body, receive), send)
        finally:
            for key in keys:
                self.pending[key] -= 1
                if self.pending[key] <= 0:
                    del self.pending[key]

    def refusal(self, scope, keys) -> str | None:
        """A sentence for the visitor if one of their caps is reached, else None."""
        counts = self.counts(scope)
        if counts is None:
            return None
        for key in keys:
            held = counts[key] + self.pending[key]
            cap = self.per_session if key[0] == "s" else self.per_client
            if held >= cap:
                who = "this page (or client)" if key[0] == "s" else "your address"
                return (f"Too many requests at once: {who} already has {held} waiting or running (the limit is "
                        f"{cap}). Wait for them to finish, then try again.")
        return None

    def counts(self, scope) -> Counter | None:
        """Gradio's live events by ("s", session hash) and ("c", client address); None if the queue is unreadable."""
        try:
            queue = scope["app"].get_blocks()._queue
            counts = Counter()
            for event in live_events(queue):
                counts[("s", event.session_hash)] += 1
                request = getattr(event, "request", None)
                if request is not None:
                    counts[("c", client_key(request.scope, self.trust_forwarded))] += 1
            return counts
        except Exception as err:  # a Gradio upgrade moved its internals: fail open, say so once
            if not self.warned:
                self.warned = True
                warnings.warn(f"queue fairness disabled: cannot read Gradio's queue ({type(err).__name__}: {err})")
            return None


def session_of(body: bytes) -> str | None:
    """The session_hash of a join's JSON body, if it has a string one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    sid = parsed.get("session_hash") if isinstance(parsed, dict) else None
    return sid if isinstance(sid, str) and sid else None
