"""The static export of a cvae opened from file:// in chromium: the page says on its banner why
it cannot decode (a conditional decoder), and the map, a selection's original and its
reconstruction still work."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas.config import ModelConfig
from vae_atlas.data import load_digits
from vae_atlas.explorer import ExplorerRun
from vae_atlas.explorer.static_export import export_static
from vae_atlas.models import build_model

from .browser import chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExplorerRun, Path]:
    torch.manual_seed(0)
    cfg = ModelConfig(
        objective="cvae", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), n_classes=10
    )
    digits = load_digits().test.subset(slice(0, 80))
    run = ExplorerRun("cv", "cv", build_model(cfg).eval(), digits)
    folder = tmp_path_factory.mktemp("cvae-export") / "site"
    export_static([run], folder)
    return run, folder


def pixels(uri: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def test_the_banner_names_the_reason_and_the_map_and_selections_work(exported) -> None:
    run, folder = exported
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((folder / "index.html").as_uri() + "?test=1")
        page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=30_000)
        banner = page.locator("#host-note")
        assert banner.is_visible()
        text = banner.inner_text()
        assert "not decoded in the page: cv (a conditional VAE: its decoder reads a class" in text
        assert "\n" not in text.strip()
        # every point is on the map, where its code puts it (the latent plane is the code)
        xy = page.evaluate(
            "[Array.from(window.__atlas.scatter.x), Array.from(window.__atlas.scatter.y)]"
        )
        assert np.allclose(np.asarray(xy).T, run.latents.mu, atol=1e-5)
        assert page.locator("#condition-picker").count() == 0  # it only decodes
        index = 11
        box = page.locator("#overlay").bounding_box()
        x, y = page.evaluate(
            "(i) => { const s = window.__atlas.scatter; return s.toScreen(s.x[i], s.y[i]); }", index
        )
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.detail")
        assert page.evaluate("window.__atlas.state.sel.a.index") == index
        original = pixels(page.evaluate("document.querySelector('#sel-original').src"))
        assert np.array_equal(original * 255, run.images.images[index, 0].numpy())
        with torch.no_grad():  # its reconstruction, decoded under its own class
            z = torch.tensor(run.latents.mu[index : index + 1], dtype=torch.float32)
            own = run.model.decode(z, run.images.labels[index : index + 1])[0, 0].numpy()
        recon = pixels(page.evaluate("document.querySelector('#sel-recon').src"))
        assert np.abs(recon - own).max() <= 1.5 / 255
        assert not errors, errors
