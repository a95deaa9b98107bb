"""`vae-atlas explore RUN --export DIR` opened from file:// in chromium: no server, no request
for a file, the page decodes under the pointer, shows a selection's original test image and
its neighbours, interpolates and steers with the sliders."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas import load_run, train
from vae_atlas.cli import main
from vae_atlas.data import load_digits

from ..explorer.conftest import tiny_config
from .browser import chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("static-export")
    train(tiny_config("vae", 2), root / "vae2", dataset=load_digits(), progress=False, log=print)
    assert main(["explore", str(root / "vae2"), "--export", str(root / "site")]) == 0
    return root / "vae2", root / "site"


@pytest.fixture(scope="module")
def page(exported):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        errors: list[str] = []
        urls: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: urls.append(r.url))
        page.goto((exported[1] / "index.html").as_uri() + "?test=1")
        page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=30_000)
        page.urls = urls
        yield page
        assert not errors, errors


def image_pixels(page, selector: str) -> np.ndarray:
    uri = page.evaluate(f"document.querySelector({selector!r}).src")
    assert uri.startswith("data:image/png;base64,")
    import base64

    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        return np.asarray(image.convert("L"))


def point_on_screen(page, index: int) -> tuple[float, float]:
    box = page.locator("#overlay").bounding_box()
    x, y = page.evaluate(
        "(i) => { const s = window.__atlas.scatter; return s.toScreen(s.x[i], s.y[i]); }", index
    )
    return box["x"] + x, box["y"] + y


def test_hover_decodes_in_the_page_as_the_model_does(page, exported) -> None:
    box = page.locator("#overlay").bounding_box()
    before = page.evaluate("window.__atlas.metrics.decodes")
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.45)
    page.wait_for_function(f"window.__atlas.metrics.decodes > {before}")
    z = page.evaluate("window.__atlas.metrics.shownZ")
    shown = page.evaluate(
        """() => { const c = document.getElementById('decoded');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""
    )
    grey = np.asarray(shown, dtype=np.float64).reshape(8, 8, 4)[..., 0] / 255
    with torch.no_grad():
        wanted = load_run(exported[0]).model.decode(torch.tensor([z]))[0, 0].numpy()
    assert np.abs(grey - wanted).max() <= 1 / 255 + 1e-6
    assert "pointer" in page.locator("#decoded-source").inner_text()


def test_selection_shows_the_original_test_image_and_neighbours(page) -> None:
    index = 17
    page.mouse.click(*point_on_screen(page, index))
    page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.detail")
    assert page.evaluate("window.__atlas.state.sel.a.index") == index
    wanted = load_digits().test.images[index, 0].numpy()  # uint8 (8, 8)
    assert np.array_equal(image_pixels(page, "#sel-original"), wanted)
    assert page.locator("#neighbours img").count() == 8
    assert "#17" in page.locator("#sel-meta").inner_text()


def test_a_selection_is_described_as_the_server_describes_it(page, exported) -> None:
    from vae_atlas.explorer import create_app
    from vae_atlas.explorer.inprocess import InProcessClient

    index = 25
    page.keyboard.press("Escape")
    page.mouse.click(*point_on_screen(page, index))
    a = "window.__atlas.state.sel.a"
    page.wait_for_function(f"{a} && {a}.index === {index} && {a}.detail")
    mine = page.evaluate("window.__atlas.state.sel.a.detail")
    client = InProcessClient(create_app([load_run(exported[0])]))
    server = json.loads(client.get(f"/api/runs/vae2/points/{index}?projection=latent").body)
    client.close()
    assert mine["position"] == pytest.approx(server["position"], abs=1e-5)
    assert mine["mu"] == pytest.approx(server["mu"], abs=1e-6)
    assert mine["sigma"] == pytest.approx(server["sigma"], rel=1e-5)
    for key in ("cx", "cy", "rx", "ry"):
        assert mine["ellipse"][key] == pytest.approx(server["ellipse"][key], abs=1e-5), key
    turn = (mine["ellipse"]["angle"] - server["ellipse"]["angle"]) % np.pi  # same axis either way
    assert min(turn, np.pi - turn) < 1e-4
    assert [n["index"] for n in mine["neighbours"]] == [n["index"] for n in server["neighbours"]]
    assert [n["distance"] for n in mine["neighbours"]] == pytest.approx(
        [n["distance"] for n in server["neighbours"]], abs=1e-5
    )


def test_two_selections_interpolate_and_sliders_steer(page) -> None:
    page.keyboard.press("Escape")
    page.mouse.click(*point_on_screen(page, 3))
    page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.detail")
    page.mouse.click(*point_on_screen(page, 40))
    page.wait_for_function("document.querySelectorAll('#strip img').length === 10")
    a, b = page.evaluate("[0, 9].map((i) => window.__atlas.state.interp.data.z[i])")
    za = page.evaluate("Array.from(window.__atlas.state.sel.a.z)")
    zb = page.evaluate("Array.from(window.__atlas.state.sel.b.z)")
    assert a == pytest.approx(za, abs=1e-6) and b == pytest.approx(zb, abs=1e-6)
    page.mouse.move(0, 0)
    slider = page.locator("#sliders input").first
    slider.fill("2.5")
    page.wait_for_function("document.getElementById('decoded-source').textContent === 'sliders'")
    dim = int(slider.get_attribute("data-dim"))
    value = float(slider.input_value())  # 2.5 on the slider's step
    assert abs(value - 2.5) < 0.1
    assert page.evaluate("window.__atlas.state.anchor")[dim] == pytest.approx(value)


def test_a_lasso_selects_the_points_the_server_would(page, exported) -> None:
    from vae_atlas.explorer import create_app
    from vae_atlas.explorer.inprocess import InProcessClient

    page.keyboard.press("Escape")
    box = page.locator("#overlay").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25
    x1, y1 = box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.65
    page.keyboard.down("Shift")
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 2)):
        page.mouse.move(x, y, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_function("window.__atlas.lasso.result !== null")
    mine = page.evaluate("window.__atlas.lasso.result")
    polygon = page.evaluate("window.__atlas.lasso.path")
    client = InProcessClient(create_app([load_run(exported[0])]))
    body = json.dumps({"projection": "latent", "polygon": polygon}).encode()
    server = json.loads(client.request("POST", "/api/runs/vae2/selection", body).body)
    client.close()
    assert len(server["indices"]) > 20  # the square holds a good part of the points
    assert mine["indices"] == server["indices"] and mine["counts"] == server["counts"]
    assert mine["mean"] == pytest.approx(server["mean"], abs=1e-5)
    assert len(mine["members"]) == min(24, len(server["indices"]))
    assert not page.locator("#lasso-card").is_hidden()


def test_nothing_is_fetched_from_a_server(page) -> None:
    assert page.urls and all(u.startswith(("file:", "data:")) for u in page.urls), page.urls
