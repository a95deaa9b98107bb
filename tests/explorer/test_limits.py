"""Oversized request bodies are refused (413) before they are read whole."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient

from vae_atlas.explorer.limits import MAX_BODY_BYTES


def test_declared_oversized_json_body_is_413(client: TestClient) -> None:
    body = b'{"z": [[0.0, 0.0]]' + b" " * MAX_BODY_BYTES + b"}"
    r = client.post(
        "/api/runs/vae2/decode", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]


def test_refusal_reads_as_a_sentence(client: TestClient) -> None:
    n = 9 * 1024 * 1024 + 25
    r = client.post(
        "/api/runs/vae2/decode",
        content=b" " * n,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert re.fullmatch(
        rf"the request body is {n} bytes, more than the limit of \d+ bytes", detail
    ), detail


def test_chunked_oversized_body_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"z": [[0.0, 0.0]]'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536
        yield b"}"

    r = client.post(
        "/api/runs/vae2/decode", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_small_bodies_still_work(client: TestClient) -> None:
    r = client.post("/api/runs/vae2/decode", json={"z": [[0.0, 0.0]]})
    assert r.status_code == 200


@pytest.fixture
def live_server(client: TestClient):
    # served on the socket bound here: a port found free and bound again by uvicorn later
    # could be taken by another process in between
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(client.app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_refused_from_the_header_without_waiting_for_the_body(live_server: int) -> None:
    # declare 1 GB, send 10 bytes: the answer must come at once, not after a body never sent
    with socket.create_connection(("127.0.0.1", live_server), timeout=10) as sock:
        sock.sendall(
            b"POST /api/runs/vae2/decode HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
            b'{"z": [[0,'
        )
        t0 = time.monotonic()
        reply = sock.recv(4096)
        assert time.monotonic() - t0 < 5
    assert reply.startswith(b"HTTP/1.1 413")
