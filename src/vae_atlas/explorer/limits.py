"""A cap on request bodies, enforced before they are read whole.

:class:`BodyLimitMiddleware` answers 413 at once when ``Content-Length`` declares more than the
cap, and stops reading (413) as soon as a streamed body (chunked, or lying about its length)
passes it; a body within the cap is handed to the app whole (FastAPI reads JSON bodies whole
anyway). Routes keep their own, smaller caps (uploads: 5 MB).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

MAX_BODY_BYTES = 8 * 1024 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimitMiddleware:
    """Pure ASGI middleware refusing bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, f"the request body is {int(declared)} bytes, more")
            return
        chunks: list[bytes] = []
        seen, more = 0, True
        while more:  # read the body here, at most max_bytes of it, then hand it on whole
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send, "the request body is larger")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, what: str) -> None:
        detail = f"{what} than the limit of {self.max_bytes} bytes"
        await send_json_error(send, 413, detail, close=True)


async def send_json_error(send: Send, status: int, detail: str, *, close: bool = False) -> None:
    """Answer ``{"detail": detail}`` with ``status`` from ASGI middleware (FastAPI's error shape);
    ``close`` asks the client to drop the connection (a body left unread)."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
