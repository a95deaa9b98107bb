"""A cvae's "decode as" choice in the explorer's URL, in a real browser (Debian's chromium): the
URL keeps the chosen class or attribute values, opening such a URL restores the control and
decodes under the choice, and a value the run cannot take is ignored with a one-line note."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet, load_digits
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.models import build_model

from .browser import chromium, serving

pytestmark = pytest.mark.browser

NAMES = ("Smiling", "Male", "Age")


def untrained(**condition) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = ModelConfig(
        objective="cvae", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), **condition
    )
    return build_model(cfg).eval()


@pytest.fixture(scope="module")
def runs() -> dict[str, ExplorerRun]:
    """An untrained class cvae and an attribute cvae on 60 digits: the URL's job is only to say
    which condition the page decodes under, so the weights need not have learned anything."""
    digits = load_digits().test.subset(slice(0, 60))
    attributes = untrained(condition="attributes", condition_attributes=NAMES)
    rng = np.random.default_rng(0)
    values = np.stack([rng.integers(0, 2, 60), rng.integers(0, 2, 60), rng.normal(40, 10, 60)], 1)
    table = torch.tensor(values, dtype=torch.float32)
    attributes.fit_condition_scale(table)
    return {
        "cls": ExplorerRun("cls", "cls", untrained(n_classes=10), digits),
        "att": ExplorerRun(
            "att", "att", attributes, ImageSet(digits.images, attributes=table),
            attribute_names=NAMES,
        ),
    }  # fmt: skip


@pytest.fixture(scope="module")
def open_page(runs) -> Iterator:
    with serving(create_app(list(runs.values()))) as url, chromium() as browser:
        pages = []

        def open_(query: str):
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            pages.append(errors)
            page.goto(f"{url}?test=1&{query}")
            page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=30_000)
            page.wait_for_function("window.__atlas.metrics.decodes > 0")
            # the page saves its URL 250 ms after the last change, always with the projection
            # (which no link here gives): wait for that save, however late its timer fires
            page.wait_for_function("new URLSearchParams(location.search).has('proj')")
            return page

        yield open_
        assert not any(pages), pages


def decoded(page) -> tuple[torch.Tensor, np.ndarray]:
    """The code the decoded image shows (1, 2) and its pixels (8, 8) in [0, 1]."""
    z, rgba = page.evaluate(
        """() => { const c = document.getElementById('decoded');
        return [window.__atlas.metrics.shownZ,
                Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }"""
    )
    grey = np.asarray(rgba, dtype=np.float64).reshape(8, 8, 4)[..., 0] / 255.0
    return torch.tensor([z], dtype=torch.float32), grey


def png_pixels(uri: str) -> np.ndarray:
    png = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)), dtype=np.float64) / 255.0


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_url_with_a_class_restores_the_control_and_decodes_under_it(open_page, runs):
    page = open_page("run=cls&y=7")
    assert page.input_value("#condition-class") == "7"
    z, pixels = decoded(page)
    with torch.no_grad():
        truth = runs["cls"].model.decode(z, torch.tensor([7]))[0, 0].numpy()
    assert np.abs(pixels - truth).max() <= 1.5 / 255
    assert query(page)["y"] == ["7"]
    page.select_option("#condition-class", "3")
    page.wait_for_function("new URLSearchParams(location.search).get('y') === '3'")
    page.select_option("#condition-class", "")
    page.wait_for_function("!new URLSearchParams(location.search).has('y')")


def test_a_url_with_attribute_values_restores_the_toggles_and_decodes_under_them(open_page, runs):
    page = open_page("run=att&attrs=Smiling:1,Male:0,Age:52.5")
    assert page.input_value("#condition-mode") == "set"
    checks = [page.is_checked(f"#condition-attrs input[title={n}]") for n in ("Smiling", "Male")]
    assert checks == [True, False]
    assert page.input_value("#condition-attrs input[title=Age]") == "52.5"
    z, pixels = decoded(page)
    with torch.no_grad():
        truth = runs["att"].model.decode(z, torch.tensor([[1.0, 0.0, 52.5]]))[0, 0].numpy()
    assert np.abs(pixels - truth).max() <= 1.5 / 255
    assert query(page)["attrs"] == ["Smiling:1,Male:0,Age:52.5"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("run=cls&y=99", "y=99 is not a class of this run (0..9)"),
        ("run=cls&y=2.5", "y=2.5 is not a class of this run (0..9)"),
        ("run=cls&attrs=Smiling:1", "takes a class (y), not attributes"),
        ("run=att&attrs=Smiling:1,Bald:0,Age:40", "Bald is not an attribute of this run"),
        ("run=att&attrs=Smiling:0.5,Male:0,Age:40", "Smiling is binary: 0 or 1, got 0.5"),
        ("run=att&attrs=Smiling:1,Male:0", "attrs does not give Age"),
    ],
)
def test_a_bad_condition_in_the_url_is_ignored_with_a_one_line_note(open_page, runs, url, said):
    page = open_page(url)
    note = page.locator("#condition-note")
    assert note.is_visible()
    text = note.inner_text()
    assert said in text and "\n" not in text
    assert page.evaluate("window.__atlas.state.condition") is None
    q = query(page)
    assert "y" not in q and "attrs" not in q  # the page's own URL no longer carries it
    # decoded under each code's own condition, as without the parameter
    run = runs[q["run"][0]]
    z, pixels = decoded(page)
    own = run.decode(z.numpy().astype(np.float64))[0, 0]
    assert np.abs(pixels - own).max() <= 1.5 / 255


def test_an_upload_is_encoded_under_the_chosen_class_and_refused_without_one(
    open_page, runs, tmp_path
):
    drawing = np.zeros((8, 8), dtype=np.uint8)
    drawing[1:7, 3:5] = 255
    path = tmp_path / "one.png"
    Image.fromarray(drawing).save(path)
    page = open_page("run=cls")
    page.set_input_files("#file", str(path))  # "own class": a cvae cannot encode it
    page.wait_for_function("document.getElementById('status').textContent.includes('cvae')")
    assert "choose one in" in page.inner_text("#status")
    assert page.evaluate("window.__atlas.state.upload") is None
    page.select_option("#condition-class", "7")
    page.set_input_files("#file", str(path))
    page.wait_for_function("window.__atlas.state.upload && window.__atlas.state.upload.detail")
    mu, shown = page.evaluate(
        """() => [Array.from(window.__atlas.state.upload.z),
                  window.__atlas.state.upload.detail.input]"""
    )
    x = torch.tensor(png_pixels(shown), dtype=torch.float32)[None, None]
    with torch.no_grad():
        wanted = runs["cls"].model.encode(x, torch.tensor([7]))[0][0].numpy()
    assert np.abs(np.asarray(mu) - wanted).max() < 1e-3  # (the shown input is a rounded PNG)


def test_an_upload_on_screen_is_encoded_again_when_the_class_changes(open_page, runs, tmp_path):
    drawing = np.zeros((8, 8), dtype=np.uint8)
    drawing[2:6, 1:7] = 255
    path = tmp_path / "bar.png"
    Image.fromarray(drawing).save(path)
    page = open_page("run=cls&y=7")
    page.set_input_files("#file", str(path))
    page.wait_for_function("window.__atlas.state.upload && window.__atlas.state.upload.detail")
    first, shown = page.evaluate(
        """() => [Array.from(window.__atlas.state.upload.z),
                  window.__atlas.state.upload.detail.input]"""
    )
    page.select_option("#condition-class", "2")
    page.wait_for_function(
        "(first) => Array.from(window.__atlas.state.upload.z).some((v, i) => v !== first[i])",
        arg=first,
    )
    again = page.evaluate("() => Array.from(window.__atlas.state.upload.z)")
    x = torch.tensor(png_pixels(shown), dtype=torch.float32)[None, None]
    with torch.no_grad():
        as_two = runs["cls"].model.encode(x, torch.tensor([2]))[0][0].numpy()
        as_seven = runs["cls"].model.encode(x, torch.tensor([7]))[0][0].numpy()
    assert np.abs(np.asarray(first) - as_seven).max() < 1e-3
    assert np.abs(np.asarray(again) - as_two).max() < 1e-3
    assert np.abs(as_two - as_seven).max() > 1e-2  # the two classes give different codes
    # "own class" cannot encode a user's image: it leaves the screen, and the status says why
    page.select_option("#condition-class", "")
    page.wait_for_function("window.__atlas.state.upload === null")
    assert page.is_hidden("#upload-body")
    assert page.evaluate("window.__atlas.state.sel.a") is None  # nor left as the selection
    assert "choose one in" in page.inner_text("#status")
