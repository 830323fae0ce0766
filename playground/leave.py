"""Free a visitor's trainer when their tab closes, without holding a connection open per tab.

Why not `demo.unload`: with an unload event, Gradio's page keeps one long-lived heartbeat request open per tab
(`config.connect_heartbeat`; gradio/utils.py connect_heartbeat), and Chromium allows six connections per host over
HTTP/1.1, so the seventh tab of one browser stayed on "Loading..." for good.

Instead the page's head script (HEAD_JS) sends, on `pagehide`, a `navigator.sendBeacon` to POST /gp/leave carrying
the page's session hash (Gradio's page exposes it as `window.__gradio_session_hash__`). The route drops exactly that
session from the registry, which stops its trainer and deletes its files. The session hash is the visitor's
credential anyway (every event of that visitor is keyed by it, and only their page and the server know it: a random
string made by the page, or a uuid4 made by gradio_client), so whoever can send it could already act as that visitor.
The route accepts only a well-formed id (LEAVE_ID), answers 204 whether or not it was known, and drops nothing else.
A tab that closes without the beacon (a crash, a mobile browser killed in the background, and, seen in the browser
tests, Chromium closing a tab whose busy renderer it did not wait for: no pagehide ran, in ~1 of 3 closes of the
eighth of eight tabs) and every gradio_client visitor are freed by the registry's reaper after GAN_IDLE_SECONDS
without contact, as before.
"""
from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LEAVE_PATH = "/gp/leave"
LEAVE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # the page's Math.random() base-36 id, or gradio_client's uuid4

# `persisted` pages go into the back/forward cache and may come back: keep them (the reaper frees them if not).
# The URL is relative to the page, so it works under a Space's or a proxy's path prefix.
HEAD_JS = """<script>
(() => {
  if (window.__gpLeaveInstalled) return;
  window.__gpLeaveInstalled = true;
  window.addEventListener("pagehide", (event) => {
    const sid = window.__gradio_session_hash__;
    if (event.persisted || !sid || !navigator.sendBeacon) return;
    navigator.sendBeacon(new URL("gp/leave", document.baseURI), new Blob([sid], {type: "text/plain"}));
  });
})();
</script>"""


def leave_route(drop) -> Route:
    """POST /gp/leave with the session hash as the (tiny, text) body: calls drop(sid) for a well-formed id."""

    async def leave(request: Request) -> Response:
        body = await request.body()   # the body-size middleware has already capped it
        sid = body[:100].decode("ascii", "replace").strip()
        if not LEAVE_ID.fullmatch(sid):
            return Response("Expected a session id.\n", status_code=400, media_type="text/plain")
        await run_in_threadpool(drop, sid)   # stopping a trainer waits for its current step: not on the event loop
        return Response(status_code=204)

    return Route(LEAVE_PATH, leave, methods=["POST"])
