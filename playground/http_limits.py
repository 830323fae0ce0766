"""An ASGI middleware that caps request bodies: HTTP 413 with one sentence for a body over the limit.

Why: Gradio parses every JSON body in memory and sets no size limit of its own except on uploads. A 400 MiB JSON body
sent to /gradio_api/queue/join was accepted and cost +1.23 GB of peak RSS, ~1.1 GB of which was never returned.
The page and the API only ever send small JSON (component values, file *paths* after an upload), so every route gets
`MAX_BODY_BYTES` except Gradio's upload route, which keeps Gradio's own `max_file_size` (GAN_MAX_UPLOAD_MB).

The Content-Length header is checked first (nothing is read); a body without one (chunked) or one that lies is
counted as it arrives and refused as soon as it passes the limit. Accepted bodies are at most the limit, so they are
read here and replayed to the app; after the replay the app's `receive` is the real one again, so a streaming
response still learns when its client disconnects.
"""
from __future__ import annotations

import json

MAX_BODY_BYTES = 1 << 20          # 1 MiB: the largest non-upload body the app accepts
UNCAPPED_PATHS = ("/gradio_api/upload",)   # Gradio checks these itself (launch(max_file_size=...))


class BodyTooLarge(Exception):
    pass


async def send_error(send, status: int, message: str) -> None:
    """A small JSON error shaped like FastAPI's ({"detail": ...}), which Gradio's page shows as a toast."""
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


class BodyLimit:
    """Refuse request bodies over `max_bytes` (except on `uncapped` paths) with HTTP 413."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, uncapped: tuple[str, ...] = UNCAPPED_PATHS):
        self.app, self.max_bytes, self.uncapped = app, max_bytes, uncapped

    def too_large(self) -> str:
        return (f"Request body too large: this server accepts at most {self.max_bytes // 1024} KiB here "
                f"(files go through the upload button).")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").rstrip("/").endswith(self.uncapped):
            return await self.app(scope, receive, send)
        length = header(scope, b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            return await send_error(send, 400, "Bad Content-Length header.")
        if declared is not None and declared > self.max_bytes:
            return await send_error(send, 413, self.too_large())
        if declared == 0 or (declared is None and header(scope, b"transfer-encoding") is None):
            return await self.app(scope, receive, send)   # no body (GET, SSE streams): nothing to count
        try:
            body = await read_body(receive, self.max_bytes)
        except BodyTooLarge:
            return await send_error(send, 413, self.too_large())
        if body is None:  # the client left while sending
            return
        return await self.app(scope, replay(body, receive), send)


async def read_body(receive, limit: int) -> bytes | None:
    """The whole request body, or BodyTooLarge once more than `limit` bytes arrived; None if the client left."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive):
    """A `receive` that gives the app the already-read body once, then defers to the real one."""
    sent = False

    async def inner():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return inner
