"""The explorer's API called in this process, without a socket: one ASGI request at a time.

The notebook widget answers its page's requests this way (the kernel is the server), and the
static export records the server's own answers to the page's first requests, so neither
re-implements an endpoint. Each call runs the app on a private event loop in a worker thread,
so it also works where an event loop is already running (a Jupyter kernel).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import FastAPI

HOST = "127.0.0.1"  # what the app's host check accepts without a port


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type and body."""

    status: int
    content_type: str
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class InProcessClient:
    """Sends requests to ``app`` (a FastAPI app from :func:`~vae_atlas.explorer.create_app`)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vae-atlas-asgi")

    def request(
        self, method: str, url: str, body: bytes = b"", content_type: str = "application/json"
    ) -> Reply:
        """``method`` ``url`` (a path with query, e.g. ``/api/runs``) with ``body``."""
        return self._pool.submit(asyncio.run, self._call(method, url, body, content_type)).result()

    def get(self, url: str) -> Reply:
        return self.request("GET", url)

    async def _call(self, method: str, url: str, body: bytes, content_type: str) -> Reply:
        parts = urlsplit(url)
        headers = [(b"host", HOST.encode()), (b"content-length", str(len(body)).encode())]
        if body:
            headers.append((b"content-type", content_type.encode("latin-1")))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": "http",
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": (HOST, 0),
            "server": (HOST, 80),
        }
        sent = False
        status, out_type, chunks = 500, "application/octet-stream", []

        async def receive() -> dict:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # no disconnect while the app answers
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            nonlocal status, out_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-type":
                        out_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return Reply(status, out_type, b"".join(chunks))

    def close(self) -> None:
        self._pool.shutdown(wait=False)
