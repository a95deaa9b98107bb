"""An image-folder run with an attribute table in chromium: finding images by file name, and
the attribute card (colour by an attribute, a slider moving the selection along its direction,
the probe table).

The folder holds tiny grey images whose attributes are visible in their pixels; a real (tiny)
training runs on it through the CLI, as a user would.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas import load_run
from vae_atlas.cli import main

from .test_explorer_map_browser import browser, hex_rgb, map_pixels, open_map, screen_points, settle
from .test_explorer_map_browser import serve as serve_runs

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the chromium fixture, shared with the map tests
N_PER_CLASS = 40  # 80 images, 16 of them in the test split
WITHOUT, WITH = "#9aa5b1", "#d1495b"  # the report's binary attribute colours: grey, red


def write_folder(root) -> None:
    """cats/ light on the left, dogs/ on the right; "smile" lights the bottom rows, "size" is
    the overall brightness; attributes.csv is keyed by file name."""
    rng = np.random.default_rng(3)
    rows = []
    for c, cls in enumerate(("cats", "dogs")):
        (root / cls).mkdir(parents=True)
        for k in range(N_PER_CLASS):
            smile, size = int(rng.integers(0, 2)), float(rng.uniform(0.4, 1.0))
            img = np.full((8, 8), 20.0)
            img[:, c * 4 : c * 4 + 4] = 230 * size
            if smile:
                img[6:, :] = 250
            img += rng.normal(0, 6, (8, 8))
            name = f"{cls}-{k:02d}.png"
            Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(root / cls / name)
            rows.append(f"{name},{smile},{size:.3f}")
    (root.parent / "attributes.csv").write_text("filename,smile,size\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory: pytest.TempPathFactory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("folder-run")
    write_folder(root / "pics")
    args = ["train", "--dataset", "folder", "--data-dir", str(root / "pics"), "--channels", "1"]
    args += ["--attributes", str(root / "attributes.csv"), "--image-size", "8", "--family", "mlp"]
    args += ["--hidden", "32", "--latent-dim", "2", "--epochs", "4", "--batch-size", "16"]
    assert main([*args, "--quiet", "--threads", "1", "--out", str(root / "pets")]) == 0
    return load_run(root / "pets")


@pytest.fixture(scope="module")
def server(folder_run) -> Iterator[str]:
    yield from serve_runs([folder_run])


def test_search_by_file_name_selects_and_rings_the_matches(browser, server, folder_run) -> None:
    names = folder_run.dataset.test.names
    page = open_map(browser, server)
    box = page.locator("#overlay").bounding_box()
    target = sorted(names)[3]
    search = page.locator("#search")
    search.fill(target.split("/")[1].upper())  # the file name alone, in another case
    search.press("Enter")
    index = names.index(target)
    page.wait_for_function(
        f"window.__atlas.state.sel.a && window.__atlas.state.sel.a.index === {index}"
    )
    assert page.locator("#status").inner_text() == f"#{index} {target}"
    x, y = page.evaluate(
        "(i) => { const s = window.__atlas.scatter; return s.toScreen(s.x[i], s.y[i]); }", index
    )
    assert abs(x - box["width"] / 2) < 1 and abs(y - box["height"] / 2) < 1  # centred
    # every dog in the test split, ringed; the first one selected
    search.fill("dogs/")
    search.press("Enter")
    dogs = [i for i, n in enumerate(names) if n.startswith("dogs/")]
    # a second selection goes to B, as a second click does
    page.wait_for_function(
        f"window.__atlas.state.sel.b && window.__atlas.state.sel.b.index === {dogs[0]}"
    )
    assert page.evaluate("window.__atlas.state.found.indices") == dogs
    assert f'({len(dogs)} files match "dogs/"' in page.locator("#status").inner_text()
    settle(page)
    png = page.locator("#overlay").screenshot()
    overlay = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    xy = screen_points(page)
    marked = xy[[index, dogs[0]]]  # A and B: their own markers cover the ring
    for i in dogs:  # a white ring of radius 6 around each match: its right-hand point is white
        if np.linalg.norm(marked - xy[i], axis=1).min() < 14:
            continue
        rx, ry = int(round(xy[i, 0] + 6)), int(round(xy[i, 1]))
        if 2 < rx < overlay.shape[1] - 2 and 2 < ry < overlay.shape[0] - 2:
            patch = overlay[ry - 1 : ry + 2, rx - 1 : rx + 2].reshape(-1, 3)
            assert (patch.min(1) > 200).any(), f"no ring around test image #{i}"
    search.fill("zebra")
    search.press("Enter")
    page.wait_for_function("document.getElementById('status').textContent.includes('zebra')")
    assert (
        'no class, test index or file name matches "zebra"' in page.locator("#status").inner_text()
    )
    assert page.evaluate("window.__atlas.state.found") is None
    page.close()
    assert not page.errors, page.errors


def decoded_pixels(src: str) -> np.ndarray:
    data = base64.b64decode(src.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float64) / 255.0


def test_attribute_card_colours_steers_and_tables(browser, server, folder_run) -> None:
    test = folder_run.dataset.test
    smile = test.attributes[:, 0].numpy()
    page = open_map(browser, server)
    # colour by "smile": every isolated point in the report's binary colours
    page.select_option("#colour-by", label="smile")
    page.wait_for_function("(window.__atlas.state.attributeColours || {}).name === 'smile'")
    assert "grey: without · red: with" in page.locator("#legend").inner_text()
    page.evaluate(
        "window.__atlas.scatter.fit()"
    )  # the points alone (a VAE's sit well inside the prior)
    settle(page)
    pixels, xy = map_pixels(page), screen_points(page)
    h, w, _ = pixels.shape
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    checked = 0
    for i in np.flatnonzero(d.min(1) > 8):
        x, y = xy[i].astype(int)
        if 3 <= x < w - 3 and 3 <= y < h - 3:
            patch = pixels[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
            colour = hex_rgb(WITH if smile[i] else WITHOUT)
            assert (np.abs(patch - colour).sum(1) <= 6).any(), f"point {i} not in its colour"
            checked += 1
    assert checked >= 5
    # select test image #2, then push the "smile" slider to its end (+2)
    page.locator("#search").fill("#2")
    page.locator("#search").press("Enter")
    page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.detail")
    page.wait_for_function(
        "document.getElementById('attr-caption').textContent === 'the selection, decoded'"
    )
    slider = page.get_by_label("attribute smile")
    slider.focus()
    slider.press("End")
    page.wait_for_function("document.getElementById('attr-caption').textContent === 'smile +2.0'")
    shown = decoded_pixels(page.locator("#attr-image").get_attribute("src"))
    # the truth, from the model here: z = μ₂ + 2 (mean μ with a smile − mean μ without)
    with torch.no_grad():
        mu = folder_run.model.encode(test.float_images())[0].numpy().astype(np.float64)
        direction = mu[smile == 1].mean(0) - mu[smile == 0].mean(0)
        z = torch.as_tensor(mu[2] + 2 * direction, dtype=torch.float32)[None]
        expected = folder_run.model.decode(z)[0, 0].numpy()
        before = folder_run.model.decode(torch.as_tensor(mu[2:3], dtype=torch.float32))[0, 0]
    assert np.abs(shown - expected).max() <= 1.5 / 255
    assert np.abs(expected - before.numpy()).max() > 0.05  # the slider did move the picture
    # the probe table: one row per attribute, the binary one with a base rate, the other an R²
    rows = page.locator("#attr-table tr").all_inner_texts()
    assert len(rows) == 3 and rows[0].startswith("attribute")
    assert rows[1].startswith("smile") and "probe" in rows[1] and "base" in rows[1]
    assert rows[2].startswith("size") and "probe R²" in rows[2]
    # the continuous "size" has a slider too: the mean code's move per standard deviation of
    # size (the least-squares slope of each code dimension on size, times size's std)
    assert page.locator("#attr-sliders input").count() == 2
    size_slider = page.get_by_label("attribute size")
    size_slider.focus()
    size_slider.press("End")
    page.wait_for_function(
        "document.getElementById('attr-caption').textContent.includes('size +2.0')"
    )
    size = test.attributes[:, 1].numpy().astype(np.float64)
    slope = np.polyfit(size, mu, 1)[0]  # (D,): per dimension, d mean code / d size
    z = torch.as_tensor(mu[2] + 2 * direction + 2 * slope * size.std(), dtype=torch.float32)
    with torch.no_grad():
        expected = folder_run.model.decode(z[None])[0, 0].numpy()
    shown = decoded_pixels(page.locator("#attr-image").get_attribute("src"))
    assert np.abs(shown - expected).max() <= 1.5 / 255
    page.close()
    assert not page.errors, page.errors
