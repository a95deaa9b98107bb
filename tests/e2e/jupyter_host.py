"""A real Jupyter front end (JupyterLab or Notebook 7, from PyPI) serving a notebook that shows
`va.explorer(run)`, and the checks the widget tests run in it through chromium.

The server is started on a free port in a temporary folder with its own config, data and runtime
folders (the extensions come from the environment's prefix).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from vae_atlas import train
from vae_atlas.data import load_digits

from ..explorer.conftest import tiny_config
from .browser import chromium, free_port

SRC = Path(__file__).resolve().parents[2] / "src"
CELLS = [
    "import vae_atlas as va\nwidget = va.explorer(va.load_run('vae2'))\nwidget",
    "widget.selection",
]


def notebook_folder(root: Path) -> Path:
    """``root`` with a 2-D VAE trained on the digits (``vae2``) and ``explore.ipynb`` (CELLS)."""
    torch.set_num_threads(1)
    train(tiny_config("vae", 2), root / "vae2", dataset=load_digits(), progress=False, log=print)
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in CELLS
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4}
    (root / "explore.ipynb").write_text(json.dumps({**notebook, "nbformat_minor": 5}))
    return root


def wait_until_serving(url: str, token: str, proc: subprocess.Popen, seconds: float) -> bool:
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(request, timeout=2)
            return True
        except OSError:
            time.sleep(0.5)
    return False


@contextmanager
def jupyter(module: str, root: Path, token: str = "", extra: tuple[str, ...] = ()) -> Iterator[str]:
    """``python -m MODULE`` (``jupyterlab`` or ``notebook``) serving ``root``; yields its URL."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
        "JUPYTER_DATA_DIR": str(root / ".data"),
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "IPYTHONDIR": str(root / ".ipython"),
    }
    port = free_port()
    args = [
        sys.executable, "-m", module, "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--ServerApp.password=",
        f"--ServerApp.root_dir={root}", "--allow-root", *extra,
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with open(root / f"{module}.log", "w") as log:
        proc = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_until_serving(url, token, proc, seconds=90):
                log_text = (root / f"{module}.log").read_text()
                pytest.fail(f"{module} did not start:\n{log_text[-3000:]}")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@contextmanager
def chromium_page() -> Iterator:
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1400, "height": 1000})


def run_cell(page, cell) -> None:
    """Shift+Enter in ``cell``, again if the notebook was not ready to take it (no ``[*]``)."""
    for _ in range(5):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        prompt = cell.locator(".jp-InputPrompt")
        for _ in range(20):
            if prompt.inner_text().strip() not in ("[ ]:", ""):
                return
            page.wait_for_timeout(250)
    pytest.fail("the notebook never ran the cell")


def open_widget(page, notebook_url: str):
    """Open the notebook, run its first cell once the kernel is idle and return the widget's
    frame once it has loaded."""
    page.goto(notebook_url, timeout=60_000)
    first = page.locator(".jp-Notebook .jp-Cell").first
    first.wait_for(timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    run_cell(page, first)
    frame = page.frame_locator("iframe[title='vae-atlas explorer']")
    frame.locator("#decoder-kind").filter(has_text="decoded in the page").wait_for(timeout=60_000)
    return frame


def check_hover_decodes(page, frame) -> None:
    """Hovering the map decodes in the page and draws a lit image."""
    box = frame.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    frame.locator("#decoded-source").filter(has_text="pointer").wait_for(timeout=20_000)
    assert "decoded in the page" in frame.locator("#decoder-kind").inner_text()
    lit = frame.locator("#decoded").evaluate(
        """(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)
        .filter((v, i) => i % 4 === 0 && v > 0).length"""
    )
    assert lit > 0  # the decoded image is drawn, not left blank


def check_selection_reaches_python(page, frame) -> None:
    """A point found by the page's search is selected, described by the kernel, and the
    notebook's second cell (``widget.selection``) prints it."""
    frame.locator("#search").fill("#17")
    frame.locator("#search").press("Enter")
    frame.locator("#sel-meta").filter(has_text="#17").wait_for(timeout=20_000)
    assert frame.locator("#neighbours img").count() == 8  # answered by the kernel
    second = page.locator(".jp-Notebook .jp-Cell").nth(1)
    run_cell(page, second)
    second.locator(".jp-OutputArea-output").filter(has_text="[17]").wait_for(timeout=20_000)
