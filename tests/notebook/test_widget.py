"""The notebook widget's kernel side: each request message from the page is answered by the
explorer's own app, in-process, with the body as a binary buffer."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("anywidget")

import vae_atlas as va  # noqa: E402
from vae_atlas.notebook import ExplorerWidget  # noqa: E402


@pytest.fixture(scope="module")
def widget(vae2) -> ExplorerWidget:
    return va.explorer(vae2, height=500)


def ask(widget, method: str, url: str, body: dict | None = None):
    content = {"vaeAtlas": "request", "id": 7, "method": method, "url": url}
    content["type"] = "application/json" if body is not None else ""
    buffers = [json.dumps(body).encode()] if body is not None else []
    reply, out = widget.answer(content, buffers)
    assert reply["vaeAtlas"] == "reply" and reply["id"] == 7
    return reply, bytes(out[0])


def test_va_explorer_is_the_widget_and_the_package_stays_importable(widget) -> None:
    assert isinstance(widget, ExplorerWidget) and widget.height == 500
    from vae_atlas.explorer import create_app  # the package of the same name still works

    assert callable(create_app) and va.explorer.ExplorerRun is not None


def test_the_page_is_the_explorer_page_with_the_kernel_transport(widget) -> None:
    page = widget.page
    assert page.count("<script") == 1 and 'type="module"' not in page  # one inline script
    assert 'id="decoded"' in page and 'id="sliders"' in page  # the explorer's own components
    assert "parent.postMessage" in page  # requests leave the frame as messages


def test_run_list_and_decoding_are_answered_by_the_app(widget, vae2) -> None:
    reply, body = ask(widget, "GET", "api/runs")
    assert reply["status"] == 200 and reply["type"] == "application/json"
    (summary,) = json.loads(body)
    assert summary["latent_dim"] == 2 and summary["n_points"] == len(vae2.dataset.test)
    z = [[0.5, -1.0]]
    reply, body = ask(widget, "POST", f"api/runs/{summary['id']}/decode", {"z": z})
    assert reply["status"] == 200
    uri = json.loads(body)["images"][0]
    import base64

    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        shown = np.asarray(image.convert("L"), dtype=np.float64) / 255
    with torch.no_grad():
        wanted = vae2.model.decode(torch.tensor(z))[0, 0].numpy()
    assert np.abs(shown - wanted).max() <= 1 / 255 + 1e-6


def test_binary_answers_travel_as_bytes(widget, vae2) -> None:
    run_id = json.loads(ask(widget, "GET", "api/runs")[1])[0]["id"]
    reply, body = ask(widget, "GET", f"api/runs/{run_id}/labels.bin")
    assert reply["type"] == "application/octet-stream"
    labels = vae2.dataset.test.labels.numpy()
    assert np.array_equal(np.frombuffer(body, dtype="<i4"), labels)


def test_errors_come_back_as_the_servers_4xx(widget) -> None:
    reply, body = ask(widget, "GET", "api/runs/nope")
    assert reply["status"] == 404 and "no run 'nope'" in json.loads(body)["detail"]
    run_id = json.loads(ask(widget, "GET", "api/runs")[1])[0]["id"]
    reply, body = ask(widget, "POST", f"api/runs/{run_id}/decode", {"z": [[1.0, 2.0, 3.0]]})
    assert reply["status"] == 422 and "latent_dim is 2" in json.loads(body)["detail"]


def test_without_anywidget_the_error_says_which_extra_to_install() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['anywidget'] = None\n"
        "import vae_atlas as va\n"
        "try:\n    va.explorer([])\nexcept ImportError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == (
        "va.explorer needs anywidget (anywidget is missing): pip install 'vae-atlas[notebook]'"
    ), out.stderr
