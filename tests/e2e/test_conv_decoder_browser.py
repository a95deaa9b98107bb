"""Conv decoders run in the page, in chromium: the static export opened from file:// and the
served explorer decode with the exported weights, and the pixels are the model's.

Two decoders: a 1x28x28 conv VAE with three stages (28 -> 14 -> 7 -> 3, so one transposed
convolution needs an output padding) trained for two epochs on synthetic 28x28 blobs, and an
untrained 3x32x32 colour one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from vae_atlas import load_run
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun
from vae_atlas.explorer.static_export import export_static
from vae_atlas.models import build_model

from ..conftest import make_blobs_dataset
from ..tiny_runs import train_quietly
from .browser import chromium
from .test_explorer_map_browser import serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ExplorerRun]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("conv-export")
    blobs = make_blobs_dataset(n=240, size=28)
    model = ModelConfig(family="conv", image_shape=(1, 28, 28), hidden=(4, 8, 16), latent_dim=3)
    # the config names a dataset; the blobs passed in are what it trains on
    cfg = RunConfig(
        data=DataConfig(name="digits"),
        model=model,
        train=TrainConfig(epochs=2, batch_size=60, probe_size=20, device="cpu"),
    )
    train_quietly(cfg, root / "c28", blobs)
    trained = load_run(root / "c28").model.eval()
    colour = build_model(
        ModelConfig(family="conv", image_shape=(3, 32, 32), hidden=(8, 16), latent_dim=5)
    ).eval()
    images = torch.randint(0, 256, (40, 3, 32, 32), generator=torch.Generator().manual_seed(0))
    return {
        "c28": ExplorerRun.from_model(trained, blobs.test, name="c28"),
        "c32": ExplorerRun.from_model(colour, ImageSet(images.to(torch.uint8)), name="c32"),
    }


@pytest.fixture(scope="module")
def site(runs, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("conv-site")
    assert export_static(list(runs.values()), folder).not_decoded == ()
    return folder


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.errors, page.urls = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.urls.append(r.url))
    page.goto(url)
    page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=30_000)
    return page


def model_pixels(model, z: list[list[float]]) -> np.ndarray:
    with torch.no_grad():
        return model.decode(torch.tensor(z, dtype=torch.float32)).flatten(1).numpy()


@pytest.mark.parametrize("run_id", ["c28", "c32"])
def test_the_page_decodes_as_the_model_does(browser, runs, site, run_id: str) -> None:
    model = runs[run_id].model
    page = open_page(browser, (site / "index.html").as_uri() + f"?test=1&run={run_id}")
    assert page.locator("#decoder-kind").inner_text() == "decoded in the page (conv weights)"
    dim = page.evaluate("window.__atlas.state.run.latent_dim")
    z = (1.5 * np.random.default_rng(3).normal(size=(4, dim))).tolist()
    mine = page.evaluate(
        "(zs) => zs.map((z) => Array.from(window.__atlas.state.decoder.decode(z)))", z
    )
    wanted = model_pixels(model, z)
    assert np.asarray(mine).shape == wanted.shape
    assert np.abs(np.asarray(mine) - wanted).max() < 1e-4
    assert wanted.std() > 1e-3  # images that differ, so a wrong kernel cannot pass by luck
    page.close()
    assert not page.errors, page.errors


def canvas_pixels(page) -> np.ndarray:
    rgba = page.evaluate(
        """() => { const c = document.getElementById('decoded'), ctx = c.getContext('2d');
        return [c.height, c.width, Array.from(ctx.getImageData(0, 0, c.width, c.height).data)]; }"""
    )
    return np.asarray(rgba[2], dtype=np.float64).reshape(rgba[0], rgba[1], 4) / 255


def hover(page) -> list[float]:
    """Move the pointer over the map and return the code the page then decoded and drew."""
    box = page.locator("#overlay").bounding_box()
    before = page.evaluate("window.__atlas.metrics.decodes")
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.45)
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.6, steps=3)
    page.wait_for_function(f"window.__atlas.metrics.decodes > {before}")
    return page.evaluate("window.__atlas.metrics.shownZ")


def test_an_export_opened_from_file_decodes_on_hover(browser, runs, site) -> None:
    model = runs["c28"].model
    page = open_page(browser, (site / "index.html").as_uri() + "?test=1&run=c28")
    assert page.locator("#host-note").count() == 0  # no "not decoded" banner
    z = hover(page)
    assert "pointer" in page.locator("#decoded-source").inner_text()
    shown = canvas_pixels(page)[..., 0]  # (28, 28): grey drawn as r = g = b
    assert np.abs(shown - model_pixels(model, [z])[0].reshape(28, 28)).max() <= 1 / 255 + 1e-6
    page.close()
    assert not page.errors, page.errors
    assert all(u.startswith(("file:", "data:")) for u in page.urls), page.urls


@pytest.fixture(scope="module")
def server(runs) -> Iterator[str]:
    yield from serve([runs["c28"]])


def test_the_served_explorer_decodes_conv_without_a_round_trip(browser, server: str) -> None:
    page = open_page(browser, server + "?test=1")
    assert page.evaluate("window.__atlas.state.decoder.label") == "conv weights"
    asked = len(page.urls)
    hover(page)
    decode_requests = [u for u in page.urls[asked:] if "/decode" in u]
    assert decode_requests == []
    page.close()
    assert not page.errors, page.errors
