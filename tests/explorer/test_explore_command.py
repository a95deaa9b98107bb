"""``vae-atlas explore``: serves the runs on localhost, warns for other hosts, fails in one line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from vae_atlas.cli import main

LAUNCH = "import sys; from vae_atlas.cli import main; sys.exit(main())"


def start(*args: str) -> tuple[subprocess.Popen, str]:
    """Start ``vae-atlas explore ARGS`` and return the process and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "explore", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    killer = threading.Timer(120, proc.kill)  # never hang the suite on a stuck server
    killer.start()
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            found = re.search(r"explorer: (http://\S+)", line)
            if found:
                return proc, found.group(1)
        raise AssertionError(f"no URL printed; stderr: {proc.stderr.read()}")  # type: ignore[union-attr]
    finally:
        killer.cancel()


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    return err


def test_explore_serves_the_runs_on_localhost(digits_runs: dict[str, Path]) -> None:
    proc, url = start(str(digits_runs["vae2"]), str(digits_runs["ae5"]), "--port", "0")
    try:
        assert url.startswith("http://127.0.0.1:")
        runs = httpx.get(url + "api/runs", timeout=30).json()
        assert [r["id"] for r in runs] == ["vae2", "ae5"]
        assert "<canvas" in httpx.get(url, timeout=30).text
    finally:
        err = stop(proc)
    assert "warning" not in err


def test_the_printed_url_takes_connections_before_the_server_has_started(
    digits_runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # uvicorn may take seconds to start on a loaded machine; whoever opens the URL meanwhile
    # must wait for it, not be refused
    connected = []

    def connect_instead_of_serving(self, sockets=None) -> None:
        url = urlsplit(re.search(r"explorer: (http://\S+)", capsys.readouterr().out).group(1))
        with socket.create_connection((url.hostname, url.port), timeout=10):
            connected.append(url.port)
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", connect_instead_of_serving)
    assert main(["explore", str(digits_runs["vae2"]), "--port", "0"]) == 0
    assert len(connected) == 1


def test_another_host_prints_a_warning(digits_runs: dict[str, Path]) -> None:
    proc, url = start(str(digits_runs["vae2"]), "--host", "0.0.0.0", "--port", "0")
    try:
        assert url.startswith("http://0.0.0.0:")
    finally:
        err = stop(proc)
    assert "warning: listening on 0.0.0.0" in err and "no authentication" in err


def test_user_errors_are_one_line(tmp_path: Path, digits_runs: dict[str, Path], capsys) -> None:
    assert main(["explore", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["explore", str(digits_runs["vae2"]), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert "cannot listen" in err and len(err.strip().splitlines()) == 1
    assert main(["explore", str(digits_runs["vae2"]), "--port", "70000"]) == 1
    assert "--port" in capsys.readouterr().err
