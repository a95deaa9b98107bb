"""How the browser tests start Debian's chromium (never ``playwright install``) and serve an
explorer app on a free local port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from vae_atlas.explorer.browser_flags import CHROMIUM, CHROMIUM_ARGS

ARGS = list(CHROMIUM_ARGS)
__all__ = ["ARGS", "CHROMIUM", "chromium", "free_port", "listening_socket", "serving"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_socket() -> socket.socket:
    """A socket listening on a free 127.0.0.1 port, for uvicorn to serve on as it is (a port
    found free, closed and bound again later can be taken by another process meanwhile)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium browser; the test is skipped where chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on ``sock`` (default: a free 127.0.0.1 port);
    yields its base URL."""
    import uvicorn

    sock = sock or listening_socket()
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 60  # bounds a hang only: a loaded machine may start it slowly
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()
