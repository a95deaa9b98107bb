"""`va.explorer(run)` in a real JupyterLab (from PyPI), driven in chromium: the widget draws the
explorer's page, decodes under the pointer through kernel messages, and a selection made in the
page reaches Python as `widget.selection`.

JupyterLab is started by the test on a free port, without a token, in a temporary folder with
its own config, data and runtime folders (the extensions come from the environment's prefix).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from vae_atlas import train
from vae_atlas.data import load_digits

from ..explorer.conftest import tiny_config
from .browser import ARGS, CHROMIUM

pytest.importorskip("jupyterlab")
pytest.importorskip("anywidget")
pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a JupyterLab and a kernel start: ~30 s

SRC = Path(__file__).resolve().parents[2] / "src"
CELLS = [
    "import vae_atlas as va\nwidget = va.explorer(va.load_run('vae2'))\nwidget",
    "widget.selection",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in CELLS
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4}
    path.write_text(json.dumps({**notebook, "nbformat_minor": 5}))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("lab")
    train(tiny_config("vae", 2), root / "vae2", dataset=load_digits(), progress=False, log=print)
    write_notebook(root / "explore.ipynb")
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
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--allow-root",
    ]  # fmt: skip
    log = open(root / "lab.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    else:
        proc.terminate()
    if proc.poll() is not None:
        pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


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
    pytest.fail("JupyterLab never ran the cell")


def test_widget_draws_decodes_on_hover_and_reports_the_selection(lab: str, tmp_path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab}/lab/tree/explore.ipynb", timeout=60_000)
        first = page.locator(".jp-Notebook .jp-Cell").first
        first.wait_for(timeout=60_000)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000
        )
        run_cell(page, first)
        frame = page.frame_locator("iframe[title='vae-atlas explorer']")
        frame.locator("#decoder-kind").filter(has_text="decoded in the page").wait_for(
            timeout=60_000
        )

        overlay = frame.locator("#overlay")
        box = overlay.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
        frame.locator("#decoded-source").filter(has_text="pointer").wait_for(timeout=20_000)
        assert "decoded in the page" in frame.locator("#decoder-kind").inner_text()
        lit = frame.locator("#decoded").evaluate(
            """(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)
            .filter((v, i) => i % 4 === 0 && v > 0).length"""
        )
        assert lit > 0  # the decoded image is drawn, not left blank

        frame.locator("#search").fill("#17")
        frame.locator("#search").press("Enter")
        frame.locator("#sel-meta").filter(has_text="#17").wait_for(timeout=20_000)
        assert frame.locator("#neighbours img").count() == 8  # answered by the kernel
        page.screenshot(path=str(tmp_path / "lab.png"))

        second = page.locator(".jp-Notebook .jp-Cell").nth(1)
        run_cell(page, second)
        second.locator(".jp-OutputArea-output").filter(has_text="[17]").wait_for(timeout=20_000)
        browser.close()
