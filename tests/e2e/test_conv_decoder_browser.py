"""Conv decoders run in the page, in chromium: the static export opened from file:// and the
served explorer decode with the exported weights, and the pixels are the model's.

Three decoders: an untrained 1x28x28 conv VAE with three stages (28 -> 14 -> 7 -> 3, so one
transposed convolution needs an output padding), an untrained 3x32x32 colour one, and a VQ-VAE
trained briefly on the 8x8 digits (a convolution before its transposed ones), exported by
``vae-atlas explore RUN --export``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_atlas import load_run
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import ImageSet, load_digits
from vae_atlas.explorer import ExplorerRun
from vae_atlas.explorer.static_export import export_static
from vae_atlas.models import build_model

from ..conftest import make_blobs_dataset
from ..tiny_runs import train_quietly
from .browser import ARGS, CHROMIUM
from .test_explorer_map_browser import serve

pytestmark = pytest.mark.browser


def untrained(image_shape: tuple[int, int, int], hidden: tuple[int, ...], latent_dim: int):
    torch.manual_seed(0)
    cfg = ModelConfig(family="conv", image_shape=image_shape, hidden=hidden, latent_dim=latent_dim)
    return build_model(cfg).eval()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """{run id: (site folder, model)} for the three decoders, and the 28x28 ExplorerRun."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("conv-export")
    conv28 = ExplorerRun.from_model(
        untrained((1, 28, 28), (4, 8, 16), 3), make_blobs_dataset(n=120, size=28).test, name="c28"
    )
    colours = torch.randint(0, 256, (40, 3, 32, 32), generator=torch.Generator().manual_seed(0))
    colour32 = ExplorerRun.from_model(
        untrained((3, 32, 32), (8, 16), 5), ImageSet(colours.to(torch.uint8)), name="c32"
    )
    assert export_static([conv28, colour32], root / "site").not_decoded == ()
    vq = ModelConfig(
        objective="vq-vae", family="conv", image_shape=(1, 8, 8), latent_dim=4, hidden=(8, 16),
        codebook_size=16,
    )  # fmt: skip
    cfg = RunConfig(
        data=DataConfig(name="digits"),
        model=vq,
        train=TrainConfig(epochs=2, batch_size=64, probe_size=20, device="cpu"),
    )
    train_quietly(cfg, root / "vq", load_digits())
    assert main(["explore", str(root / "vq"), "--export", str(root / "vq-site")]) == 0
    return {
        "c28": (root / "site", conv28.model),
        "c32": (root / "site", colour32.model),
        "vq": (root / "vq-site", load_run(root / "vq").model.eval()),
        "run28": conv28,
    }


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


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


@pytest.mark.parametrize("run_id", ["c28", "c32", "vq"])
def test_the_page_decodes_as_the_model_does(browser, sites, run_id: str) -> None:
    folder, model = sites[run_id]
    page = open_page(browser, (folder / "index.html").as_uri() + f"?test=1&run={run_id}")
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
        """() => { const c = document.getElementById('decoded');
        return [c.height, c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }"""
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


def test_an_export_opened_from_file_decodes_on_hover(browser, sites) -> None:
    folder, model = sites["c28"]
    page = open_page(browser, (folder / "index.html").as_uri() + "?test=1&run=c28")
    assert page.locator("#host-note").count() == 0  # no "not decoded" banner
    z = hover(page)
    assert "pointer" in page.locator("#decoded-source").inner_text()
    shown = canvas_pixels(page)[..., 0]  # (28, 28): grey drawn as r = g = b
    assert np.abs(shown - model_pixels(model, [z])[0].reshape(28, 28)).max() <= 1 / 255 + 1e-6
    page.close()
    assert not page.errors, page.errors
    assert all(u.startswith(("file:", "data:")) for u in page.urls), page.urls


@pytest.fixture(scope="module")
def server(sites) -> Iterator[str]:
    yield from serve([sites["run28"]])


def test_the_served_explorer_decodes_conv_without_a_round_trip(browser, server: str) -> None:
    page = open_page(browser, server + "?test=1")
    assert page.evaluate("window.__atlas.state.decoder.label") == "conv weights"
    asked = len(page.urls)
    hover(page)
    decode_requests = [u for u in page.urls[asked:] if "/decode" in u]
    assert decode_requests == []
    page.close()
    assert not page.errors, page.errors
