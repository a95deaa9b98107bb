"""The map's renderers, picking and density view in chromium, and a page of a million points.

Colours are checked on screenshots against the report's palette (``class_hex_colors``) and
picking against a nearest-point scan written here, in numpy.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas import load_run, train
from vae_atlas.data import ImageSet, load_digits
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.viz.style import class_hex_colors

from ..explorer.conftest import conv_explorer_run, tiny_config
from .browser import chromium, listening_socket, serving

pytestmark = pytest.mark.browser
BACKGROUND = (15, 19, 28)  # the map's #0f131c


def serve(runs) -> Iterator[str]:
    sock = listening_socket()
    with serving(create_app(runs, port=sock.getsockname()[1]), sock) as url:
        yield url


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("map-runs")
    train(tiny_config("vae", 2), root / "vae2", dataset=load_digits(), progress=False, log=print)
    return load_run(root / "vae2")


@pytest.fixture(scope="module")
def server(digits_run) -> Iterator[str]:
    yield from serve([digits_run, conv_explorer_run()])


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def open_map(browser, url: str, query: str = ""):
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}?test=1{query}")
    page.wait_for_function(
        "window.__atlas && window.__atlas.state.ready && window.__atlas.metrics.firstDrawnMs",
        timeout=60_000,
    )
    page.errors = errors
    return page


def settle(page) -> None:
    """Wait until the map has drawn its snapshot for the current view (nothing left to draw)."""
    page.wait_for_function("!window.__atlas.scatter.dirty", timeout=30_000)
    page.evaluate("new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))")


def map_pixels(page) -> np.ndarray:
    """The points canvas as the screen shows it, (H, W, 3) in CSS pixels, without the axes,
    legend and pointer drawn over it."""
    over = "document.querySelectorAll('#map-panel > :not(#points)').forEach((e) => "
    page.evaluate(over + "e.style.visibility = 'hidden')")
    png = page.locator("#points").screenshot()
    page.evaluate(over + "e.style.visibility = '')")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def screen_points(page) -> np.ndarray:
    """Every point's position on the map in CSS pixels, (N, 2)."""
    xy = page.evaluate(
        """() => { const s = window.__atlas.scatter, out = [];
        for (let i = 0; i < s.x.length; i++) out.push(s.toScreen(s.x[i], s.y[i]));
        return out; }"""
    )
    return np.array(xy)


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])


@pytest.mark.parametrize("renderer", ["webgl", "webgl-points", "canvas"])
def test_each_renderer_draws_one_class_in_the_report_colour(browser, server, renderer) -> None:
    page = open_map(browser, server, f"&renderer={renderer}")
    kind = page.evaluate("window.__atlas.scatter.renderer")
    assert kind == ("canvas" if renderer == "canvas" else "webgl2")
    shown = 3
    for c, button in enumerate(page.locator("#legend button").all()):
        if c != shown:
            button.click()  # hide every class but one
    settle(page)
    pixels, xy = map_pixels(page), screen_points(page)
    labels = np.array(page.evaluate("Array.from(window.__atlas.state.run.labels)"))
    h, w, _ = pixels.shape
    inside = (xy[:, 0] >= 3) & (xy[:, 0] < w - 3) & (xy[:, 1] >= 3) & (xy[:, 1] < h - 3)
    colour = hex_rgb(class_hex_colors(10)[shown])

    def near(points: np.ndarray, rgb) -> np.ndarray:
        """Per point: does a pixel of colour `rgb` lie within 2 px of it?"""
        out = []
        for x, y in points.astype(int):
            patch = pixels[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
            out.append(bool((np.abs(patch - rgb).sum(1) <= 6).any()))
        return np.array(out)

    mine = xy[inside & (labels == shown)]
    assert len(mine) > 20 and near(mine, colour).mean() > 0.95
    # a hidden class's point far (> 10 px) from every shown one (a square of 5) is background
    d = np.linalg.norm(xy[:, None] - mine[None], axis=2).min(1)
    others = xy[inside & (labels != shown) & (d > 10)]
    assert len(others) > 20 and not near(others, colour).any()
    page.close()
    assert not page.errors, page.errors


def test_pan_moves_the_drawn_points_with_the_pointer(browser, server) -> None:
    page = open_map(browser, server, "&renderer=webgl")
    settle(page)
    before = map_pixels(page)
    box = page.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + 400, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 440, box["y"] + 330, steps=5)
    page.mouse.up()
    settle(page)
    after = map_pixels(page)
    # the picture moved by (40, 30) pixels: compare the overlapping parts
    moved = after[130:-130, 140:-140]
    assert np.abs(moved - before[100:-160, 100:-180]).mean() < 2.0
    assert np.abs(moved - before[130:-130, 140:-140]).mean() > 2.0
    page.close()


def test_hover_picks_the_nearest_point_as_a_scan_would(browser, server) -> None:
    page = open_map(browser, server)
    xy = screen_points(page)
    rng = np.random.default_rng(0)
    size = page.evaluate("Object.values(window.__atlas.scatter.cssSize())")
    probes = rng.uniform([0, 0], size, (100, 2))
    near_points = xy[rng.choice(len(xy), 100)] + rng.normal(0, 3, (100, 2))
    probes = np.vstack([probes, near_points])
    picked = page.evaluate(
        "(ps) => ps.map(([x, y]) => window.__atlas.scatter.pick(x, y))", probes.tolist()
    )
    hits = misses = 0
    for (px, py), got in zip(probes, picked, strict=True):
        d = np.hypot(xy[:, 0] - px, xy[:, 1] - py)
        if d.min() >= 8 - 1e-6:
            misses += 1
            assert got == -1
        else:
            hits += 1
            assert got >= 0 and d[got] <= d.min() + 1e-3  # the nearest (or one as near)
    assert hits >= 100 and misses > 20
    page.close()


def test_density_view_shows_where_points_gather(browser, server) -> None:
    page = open_map(browser, server)
    page.select_option("#map-mode", "density")
    settle(page)
    pixels, xy = map_pixels(page), screen_points(page)
    from scipy.ndimage import distance_transform_edt

    lit = np.abs(pixels - BACKGROUND).sum(2) > 30
    h, w = lit.shape
    at = np.zeros((h, w), bool)
    xs, ys = xy.round().astype(int).T
    ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    at[ys[ok], xs[ok]] = True
    d = distance_transform_edt(~at)  # pixels to the nearest point
    # a cell of 4 device px and a blur of one cell reach at most 12 px from a point
    assert not lit[d > 12].any()
    assert lit[d < 1].mean() > 0.9
    page.wait_for_function("location.search.includes('show=density')")
    page.close()
    assert not page.errors, page.errors


def test_grid_index_and_density_image_against_hand_computed_cases(browser, server) -> None:
    page = open_map(browser, server)
    out = page.evaluate(
        """async () => {
        const { GridIndex } = await import('./static/pointindex.js');
        const { densityImage, CELL } = await import('./static/density.js');
        const x = Float32Array.from([0, 1, 1, 5, 5.5, -3]);
        const y = Float32Array.from([0, 0, 1, 5, 5, 2]);
        const g = new GridIndex(x, y, 1);
        const red = 0xff0000ff;  // RGBA words, little-endian: r = 255
        const img = densityImage(Float32Array.from([0.5, 1.0]), Float32Array.from([0.5, 0.5]),
          Uint32Array.from([red, red]), { s: 2 * CELL, ox: 0, oy: 10 * CELL, width: 10 * CELL,
          height: 10 * CELL });
        const px = (c, r) => { const k = 4 * (r * img.cols + c);
          return Array.from(img.data.slice(k, k + 4)); };
        return {
          nearest: [g.nearest(0.9, 0.2, 1), g.nearest(5.3, 5, 1), g.nearest(10, 10, 1),
                    g.nearest(-2.9, 2, 0.5), g.nearest(0.1, 0.1, 5, (i) => i !== 0)],
          cells: [img.cols, img.rows, px(1, 9), px(2, 8), px(0, 9)[0], px(3, 9)[3], px(4, 9)[3]],
        };
      }"""
    )
    # (0.9, 0.2): (1, 0) at 0.22; (5.3, 5): 5.5 at 0.2; (10, 10): nothing within 1;
    # (-2.9, 2): (-3, 2) at 0.1; (0.1, 0.1) without point 0: (1, 0) at 0.906
    assert out["nearest"] == [1, 4, -1, 5, 1]
    cols, rows, peak, also_peak, edge_red, beside, two_away = out["cells"]
    # red points at (0.5, 0.5) and (1, 0.5), 2 cells per unit: columns 1 and 2 of row 9 (the
    # bottom row). After the 3x3 blur, cells whose window holds both points are the densest and
    # show the colour at full light; column 0 sees one point: 0.25 + 0.75 ln(1 + 1/9) /
    # ln(1 + 2/9) = 0.643 of it; column 3 sees one, column 4 none.
    assert (cols, rows) == (10, 10)
    assert peak == [255, 0, 0, 255] and also_peak == [255, 0, 0, 255]
    assert abs(edge_red - 0.643 * 255) <= 1
    assert beside == 255 and two_away == 0
    page.close()


@pytest.fixture(scope="module")
def million_server(digits_run) -> Iterator[str]:
    """The digits VAE over a million noisy copies of its test digits."""
    test = digits_run.dataset.test
    g = torch.Generator().manual_seed(0)
    n = 1_000_000
    idx = torch.randint(0, len(test), (n,), generator=g)
    noise = torch.randint(-40, 41, (n, 1, 8, 8), generator=g, dtype=torch.int16)
    images = (test.images[idx].to(torch.int16) + noise).clamp(0, 255).to(torch.uint8)
    run = ExplorerRun.from_model(
        digits_run.model,
        ImageSet(images=images, labels=test.labels[idx]),
        name="million",
        class_names=digits_run.dataset.class_names,
    )
    yield from serve([run])


@pytest.mark.slow  # building the million-point run and its page: about 30 s on two busy cores
def test_a_million_points_render_pick_and_decode(browser, million_server) -> None:
    page = open_map(browser, million_server)
    assert page.evaluate("window.__atlas.scatter.x.length") == 1_000_000
    settle(page)
    lit = np.abs(map_pixels(page) - BACKGROUND).sum(2) > 30
    # 2,000 points spread over the million (every 500th) each land on a lit pixel
    xy = page.evaluate(
        """() => { const s = window.__atlas.scatter, out = [];
        for (let i = 0; i < s.x.length; i += 500) out.push(s.toScreen(s.x[i], s.y[i]));
        return out; }"""
    )
    h, w = lit.shape
    on = [lit[int(y), int(x)] for x, y in xy if 0 <= x < w and 0 <= y < h]
    assert len(on) > 1500 and np.mean(on) > 0.99
    box = page.locator("#overlay").bounding_box()
    index = 123_456
    x, y = page.evaluate(
        "(i) => { const s = window.__atlas.scatter; return s.toScreen(s.x[i], s.y[i]); }", index
    )
    decodes = page.evaluate("window.__atlas.metrics.decodes")
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_function(f"window.__atlas.metrics.decodes > {decodes}")
    page.wait_for_function("document.getElementById('hover-point').textContent.includes('#')")
    text = page.locator("#hover-point").inner_text()
    picked = int(text.split("#")[1].split()[0])
    # the picked point lies under the pointer (within a pixel: a million points overlap)
    px, py = page.evaluate(
        "(i) => { const s = window.__atlas.scatter; return s.toScreen(s.x[i], s.y[i]); }", picked
    )
    assert np.hypot(px - x, py - y) < 1.0
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("document.getElementById('sel-meta').textContent.length > 0")
    assert page.locator("#sel-original").get_attribute("src").startswith("data:image/png")
    page.close()
    assert not page.errors, page.errors


def test_search_by_class_name_and_by_test_index(browser, server, digits_run) -> None:
    page = open_map(browser, server)
    box = page.locator("#overlay").bounding_box()
    search = page.locator("#search")
    search.fill("7")
    search.press("Enter")
    hidden = page.evaluate("[...window.__atlas.scatter.hidden].sort((a, b) => a - b)")
    assert hidden == [0, 1, 2, 3, 4, 5, 6, 8, 9]
    sevens = int((digits_run.dataset.test.labels == 7).sum())
    assert page.locator("#status").inner_text() == f"class 7: {sevens} points"
    search.fill("#5")
    search.press("Enter")
    page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.index === 5")
    x, y = page.evaluate(
        "() => { const s = window.__atlas.scatter; return s.toScreen(s.x[5], s.y[5]); }"
    )
    assert abs(x - box["width"] / 2) < 1 and abs(y - box["height"] / 2) < 1  # centred
    search.fill("no such thing")
    search.press("Enter")  # not a class or an index: asked of the server's file names
    page.wait_for_function(
        "document.getElementById('status').innerText.includes('no class or test index matches')"
    )
    search.fill("#100000")
    search.press("Enter")
    assert "there is no test image #100000" in page.locator("#status").inner_text()
    search.fill("")
    search.press("Enter")
    assert page.evaluate("window.__atlas.scatter.hidden.size") == 0
    page.close()
    assert not page.errors, page.errors


def test_lasso_selects_the_points_inside_and_downloads_them(browser, server, digits_run) -> None:
    page = open_map(browser, server)
    box = page.locator("#overlay").bounding_box()
    xy = screen_points(page)
    x0, y0, x1, y1 = 250, 200, 520, 480  # a rectangle in map pixels, drawn as a lasso
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    for x, y in [(x1, y0), (x1, y1), (x0, y1), (x0, y0)]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_selector("#lasso-card:not([hidden])")
    inside = (xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)
    border = (np.abs(xy[:, 0] - [[x0], [x1]]).min(0) < 1) | (
        np.abs(xy[:, 1] - [[y0], [y1]]).min(0) < 1
    )
    got = page.evaluate("window.__atlas.lasso.result.indices")
    assert set(np.flatnonzero(inside & ~border)) <= set(got) <= set(np.flatnonzero(inside | border))
    assert page.locator("#lasso-count").inner_text() == f"{len(got)} points"
    labels = digits_run.dataset.test.labels.numpy()
    counts = np.bincount(labels[got], minlength=10)
    bars = page.locator("#lasso-hist .hist-row span:last-child").all_inner_texts()
    assert [int(b) for b in bars] == counts.tolist()
    assert page.locator("#lasso-members img").count() == min(24, len(got))
    with page.expect_download() as info:
        page.click("#lasso-csv")
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0] == "index,label" and lines[1:] == [f"{i},{labels[i]}" for i in got]
    with page.expect_download() as info:
        page.click("#lasso-json")
    assert json.loads(Path(info.value.path()).read_text())["indices"] == got
    page.keyboard.press("Escape")
    assert page.locator("#lasso-card").is_hidden()
    page.close()
    assert not page.errors, page.errors


def test_drawing_pad_encodes_while_drawing_and_selects_on_release(browser, server) -> None:
    page = open_map(browser, server)
    pad = page.locator("#pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    cx = box["x"] + box["width"] / 2
    page.mouse.move(cx, box["y"] + 15)
    page.mouse.down()
    page.mouse.move(cx, box["y"] + 50, steps=5)
    page.wait_for_function("window.__atlas.padStats.encodes >= 1")
    z_early = page.evaluate("Array.from(window.__atlas.state.upload.z)")
    recon_early = page.locator("#up-recon").get_attribute("src")
    assert page.evaluate("window.__atlas.state.sel.a") is None  # shown, not selected, yet
    # more ink: a bar across makes it a different drawing, so its code moves
    page.mouse.move(cx, box["y"] + box["height"] - 15, steps=5)
    page.mouse.move(box["x"] + 15, box["y"] + box["height"] - 15, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "window.__atlas.state.sel.a && window.__atlas.state.sel.a.kind === 'upload'"
    )
    z_late = page.evaluate("Array.from(window.__atlas.state.upload.z)")
    assert np.abs(np.array(z_late) - z_early).max() > 1e-3
    assert page.locator("#up-recon").get_attribute("src") != recon_early
    page.click("#pad-clear")
    page.close()
    assert not page.errors, page.errors


def test_tsne_is_computed_in_the_background_with_progress_shown(browser, server) -> None:
    page = open_map(browser, server, "&run=conv3")
    calls, released = [], []

    def computing_until_released(route) -> None:
        calls.append(route.request.url)
        if not released:  # the server's answer while a long t-SNE runs
            route.fulfill(json={"state": "computing", "progress": 0.4, "seconds": 3.2})
        else:
            route.continue_()

    page.route(re.compile(r"/map/job\?projection=tsne"), computing_until_released)
    page.select_option("#projection", "tsne")
    page.wait_for_function("document.getElementById('map-note').textContent.includes('40 %')")
    note = page.locator("#map-note").inner_text()
    assert "t-SNE" in note and "in the background" in note and "3 s" in note
    assert page.evaluate("window.__atlas.state.projection") == "pca"  # still on PCA meanwhile
    deadline = time.monotonic() + 30
    while len(calls) < 2 and time.monotonic() < deadline:  # it asks again while computing
        page.wait_for_timeout(100)
    released.append(True)
    page.wait_for_function("window.__atlas.state.projection === 'tsne'", timeout=60_000)
    page.wait_for_function(
        "window.__atlas.state.map && window.__atlas.state.map.projection === 'tsne'"
    )
    assert len(calls) >= 3
    page.close()
    assert not page.errors, page.errors
