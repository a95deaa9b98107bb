"""DNS rebinding: only requests addressed to this explorer are answered, and no CORS is sent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.explorer.hosts import split_host


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("localhost", ("localhost", None)),
        ("LocalHost:8765", ("localhost", 8765)),
        ("127.0.0.1:80", ("127.0.0.1", 80)),
        ("[::1]:8765", ("::1", 8765)),
        ("[::1]", ("::1", None)),
        ("evil.example:8765", ("evil.example", 8765)),
        ("", None),
        (":8765", None),
        ("localhost:", None),
        ("localhost:http", None),
        ("localhost:123456", None),
        ("[::1", None),
        ("[::1]8765", None),
    ],
)
def test_split_host(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parsed


def status(app, host: str, path: str = "/api/runs") -> int:
    return TestClient(app).get(path, headers={"host": host}).status_code


def test_only_this_servers_names_and_port_are_answered(conv_run: ExplorerRun) -> None:
    app = create_app([conv_run], port=8765)
    for host in ("localhost:8765", "127.0.0.1:8765", "[::1]:8765", "LOCALHOST:8765"):
        assert status(app, host) == 200, host
    for host in (
        "evil.example:8765",  # a rebinding attacker's name pointing at 127.0.0.1
        "localhost.evil.example:8765",
        "127.0.0.1:8766",  # another port
        "localhost",  # port 80 implied
        "testserver",
        "",
    ):
        assert status(app, host) == 400, host
        assert status(app, host, "/") == 400, host
    r = TestClient(app).get("/api/runs", headers={"host": "evil.example:8765"})
    assert "Host" in r.json()["detail"]


def test_any_port_when_the_port_is_not_known(conv_run: ExplorerRun) -> None:
    app = create_app([conv_run])
    assert status(app, "127.0.0.1:5000") == 200 and status(app, "localhost") == 200
    assert status(app, "evil.example:5000") == 400


def test_the_users_host_is_allowed(conv_run: ExplorerRun) -> None:
    app = create_app([conv_run], host="atlas.lan", port=9000)
    assert status(app, "atlas.lan:9000") == 200 and status(app, "localhost:9000") == 200
    assert status(app, "192.168.1.5:9000") == 400 and status(app, "evil.example:9000") == 400


def test_a_wildcard_bind_allows_ip_literals_but_no_other_names(conv_run: ExplorerRun) -> None:
    every_interface = "0.0.0.0"  # what a user passes as --host to serve their whole network
    app = create_app([conv_run], host=every_interface, port=9000)
    assert status(app, "192.168.1.5:9000") == 200 and status(app, "[fe80::1]:9000") == 200
    assert status(app, "evil.example:9000") == 400


def test_no_cors_headers_for_other_origins(conv_run: ExplorerRun) -> None:
    client = TestClient(create_app([conv_run]), base_url="http://127.0.0.1")
    origin = {"origin": "http://evil.example"}
    r = client.get("/api/runs", headers=origin)
    assert r.status_code == 200
    assert not any(k.lower().startswith("access-control-") for k in r.headers)
    pre = client.options(
        "/api/runs/conv3/decode",
        headers={**origin, "access-control-request-method": "POST"},
    )
    assert pre.status_code >= 400
    assert not any(k.lower().startswith("access-control-") for k in pre.headers)
