"""A check of the ``Host`` header against the address the explorer was started on.

A web page on another site can make the browser send requests to the explorer by pointing its
own DNS name at 127.0.0.1 (DNS rebinding); the browser then treats the explorer's answers as
that site's. Such requests carry the other site's name in ``Host``, so the explorer answers only
requests addressed to ``localhost``, ``127.0.0.1``, ``[::1]`` or the ``--host`` it was given
(and, when that is a wildcard address such as ``0.0.0.0``, to any literal IP address and this
machine's host name: a rebinding attack always needs a DNS name of its own). Anything else gets
400. The explorer sends no CORS headers, so other sites cannot read its answers either.
"""

from __future__ import annotations

import ipaddress
import socket

from vae_atlas.explorer.limits import ASGIApp, Receive, Scope, Send, send_json_error

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


def split_host(value: str) -> tuple[str, int | None] | None:
    """``(name, port)`` of a Host header value (``name``, ``name:port``, ``[v6]:port``), the
    name lower-cased and without brackets; None when it is malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, sep, port_text = value.partition(":")
        port_text = port_text if sep else None
    if not name or (port_text is not None and not (port_text.isdigit() and len(port_text) <= 5)):
        return None
    return name, None if port_text is None else int(port_text)


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostCheckMiddleware:
    """Pure ASGI middleware answering 400 to requests whose ``Host`` is not this server.

    Parameters
    ----------
    host : the address the server was bound to (``--host``).
    port : the port it listens on; None accepts any port (the app was not started by
        ``vae-atlas explore``, so the port is not known here).
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        bound = host.strip("[]").lower()
        self.wildcard = bound in WILDCARDS
        names = {*LOOPBACK_NAMES, bound}
        if self.wildcard:
            names.add(socket.gethostname().lower())
        self.names = frozenset(names - {""})
        self.port = port

    def allows(self, value: str) -> bool:
        parsed = split_host(value)
        if parsed is None:
            return False
        name, port = parsed
        if name not in self.names and not (self.wildcard and is_ip_literal(name)):
            return False
        if self.port is None:
            return True
        return port == self.port or (port is None and self.port == 80)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        value = headers.get(b"host", b"").decode("latin-1")
        if self.allows(value):
            await self.app(scope, receive, send)
            return
        detail = (
            f"the Host header {value[:100]!r} does not name this explorer; open it at the "
            "address it printed (localhost or 127.0.0.1)"
        )
        await send_json_error(send, 400, detail)
