"""The explorer page in a real browser: Playwright driving Debian's chromium (headless).

A uvicorn server runs in a background thread on a free port with two runs: a 2-D MLP VAE on
the digits (decoded in the page) and an untrained conv model behind a user's own module
(decoded by the server).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas import load_run, train
from vae_atlas.data import load_digits
from vae_atlas.explorer import create_app

from ..explorer.conftest import conv_explorer_run, tiny_config
from .browser import chromium, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("browser-runs")
    train(
        tiny_config("vae", 2),
        root / "vae2",
        dataset=load_digits(),
        progress=False,
        log=lambda _: None,
    )
    runs: list = [load_run(root / "vae2"), conv_explorer_run(server_decoded=True)]
    with serving(create_app(runs)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server: str):
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "?test=1")
    page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=30_000)
    yield page
    page.close()
    assert not errors, errors


def canvas_digest(page, selector: str) -> list[int]:
    return page.evaluate(
        """(sel) => { const c = document.querySelector(sel);
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""",
        selector,
    )


def point_on_screen(page, index: int) -> tuple[float, float]:
    box = page.locator("#overlay").bounding_box()
    x, y = page.evaluate(
        "(i) => { const s = window.__atlas.scatter; return s.toScreen(s.x[i], s.y[i]); }", index
    )
    return box["x"] + x, box["y"] + y


def test_page_loads_with_runs_and_points(page) -> None:
    assert page.title() == "vae-atlas explorer"
    assert page.locator("#run option").count() == 2
    background = (15, 19, 28)
    # from a screenshot, whichever renderer drew the points (a WebGL canvas has no 2-D context);
    # the axes and legend over the points are hidden for it
    over = "document.querySelectorAll('#map-panel > :not(#points)').forEach((e) => "
    page.evaluate(over + "e.style.visibility = 'hidden')")
    page.wait_for_function("!window.__atlas.scatter.dirty")
    shot = Image.open(io.BytesIO(page.locator("#points").screenshot())).convert("RGB")
    page.evaluate(over + "e.style.visibility = '')")
    painted = int((np.asarray(shot) != background).any(axis=2).sum())
    n_points = page.evaluate("window.__atlas.state.run.n_points")
    assert n_points > 300
    assert painted > 2 * n_points  # every point is a few pixels; most land on screen
    assert page.locator("#legend button").count() == 10


def test_pointer_move_decodes_live(page) -> None:
    box = page.locator("#overlay").bounding_box()
    decodes = page.evaluate("window.__atlas.metrics.decodes")
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.wait_for_function(f"window.__atlas.metrics.decodes > {decodes}")
    first = canvas_digest(page, "#decoded")
    decodes = page.evaluate("window.__atlas.metrics.decodes")
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.6, steps=4)
    page.wait_for_function(f"window.__atlas.metrics.decodes > {decodes}")
    assert canvas_digest(page, "#decoded") != first
    assert "pointer" in page.locator("#decoded-source").inner_text()


# The code under a screen position of the main map, derived here from the map's linear axes and
# the anchor (the plane through the anchor spanned by the axes), and its image as the server's
# torch decoder draws it: 0..255 grey levels in row-major order.
CODE_AT = """([sx, sy]) => { const a = window.__atlas, [x, y] = a.scatter.toData(sx, sy);
  const lin = a.state.map.linear, anchor = a.state.anchor, pa = a.project(anchor);
  const dx = x - pa[0], dy = y - pa[1];
  return Array.from(anchor, (v, d) => v + lin.axes[0][d] * dx + lin.axes[1][d] * dy); }"""


def server_image(page, z: list[float]) -> np.ndarray:
    data = page.evaluate(
        """async (z) => { const r = await fetch(window.__atlas.runPath('/decode'), {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({z: [z], format: 'array'})});
        return (await r.json()).data; }""",
        z,
    )
    return np.round(np.asarray(data, dtype=np.float64).ravel() * 255)


# moves dispatched inside one task: after each, the #decoded canvas's red channel, read at once
MOVES_THEN_READ = """async (positions) => {
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const o = document.getElementById('overlay'), r = o.getBoundingClientRect();
  const c = document.getElementById('decoded'), a = window.__atlas;
  const red = () => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)
    .filter((v, i) => i % 4 === 0);
  const before = { image: red(), decodes: a.metrics.decodes }, after = [];
  for (const [sx, sy] of positions) {
    o.dispatchEvent(new PointerEvent('pointermove', {
      clientX: r.left + sx, clientY: r.top + sy, bubbles: true }));
    after.push(red());
  }
  await new Promise((ok) => requestAnimationFrame(ok));  // after the hover's own frame callback
  return { before, after, framed: red(), decodes: a.metrics.decodes - before.decodes }; }"""


def test_hover_image_is_drawn_before_the_pointer_event_returns(page) -> None:
    # no animation frame runs between the move and the read, so the pixels are the move's own
    box = page.locator("#overlay").bounding_box()
    position = [box["width"] * 0.15, box["height"] * 0.2]  # far from the anchor's image
    out = page.evaluate(MOVES_THEN_READ, [position])
    wanted = server_image(page, page.evaluate(CODE_AT, position))
    drawn = np.asarray(out["after"][0], dtype=np.float64)
    assert np.abs(drawn - np.asarray(out["before"]["image"])).max() > 10  # the image changed
    assert np.abs(drawn - wanted).max() <= 1
    assert out["decodes"] == 1


def test_moves_in_one_frame_decode_the_first_at_once_and_the_newest_in_the_frame(page) -> None:
    box = page.locator("#overlay").bounding_box()
    positions = [
        [box["width"] * fx, box["height"] * fy] for fx, fy in [(0.15, 0.2), (0.5, 0.5), (0.85, 0.8)]
    ]
    out = page.evaluate(MOVES_THEN_READ, positions)
    first, newest = (server_image(page, page.evaluate(CODE_AT, p)) for p in positions[::2])
    assert np.abs(first - newest).max() > 10  # two different images
    assert np.abs(np.asarray(out["after"][-1]) - first).max() <= 1  # later moves wait for the frame
    assert np.abs(np.asarray(out["framed"]) - newest).max() <= 1  # which draws the newest
    assert out["decodes"] == 2  # the middle move is never decoded


def test_in_page_decoder_matches_the_server(page) -> None:
    diff = page.evaluate(
        """async () => { const a = window.__atlas, z = [0.4, -1.1];
        const js = a.state.decoder.decode(z);
        const r = await fetch(a.runPath('/decode'), {method: 'POST',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({z: [z], format: 'array'})});
        const server = (await r.json()).data; let m = 0;
        for (let i = 0; i < server.length; i++) m = Math.max(m, Math.abs(server[i] - js[i]));
        return m; }"""
    )
    assert diff < 1e-3


def test_two_clicks_give_an_interpolation_strip(page) -> None:
    page.mouse.click(*point_on_screen(page, 3))
    page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.detail")
    assert page.locator("#sel-original").get_attribute("src").startswith("data:image/png")
    assert page.locator("#neighbours figure").count() == 8
    page.mouse.click(*point_on_screen(page, 40))
    page.wait_for_function("window.__atlas.state.interp.data !== null")
    assert page.locator("#strip img").count() == 10
    assert page.evaluate("window.__atlas.state.interp.data.path.length") == 10
    page.click("#m-spherical")
    page.wait_for_function("window.__atlas.state.interp.method === 'spherical'")
    page.wait_for_function("location.search.includes('m=spherical')")  # saved after 250 ms
    assert "a=i3" in page.url and "b=i40" in page.url and "m=spherical" in page.url


def test_url_reopens_the_selection(page, server: str) -> None:
    page.goto(server + "?test=1&run=vae2&proj=latent&a=i5&b=i9&s=7")
    page.wait_for_function("window.__atlas.state.ready && window.__atlas.state.interp.data")
    picked = page.evaluate("((s) => [s.a.index, s.b.index])(window.__atlas.state.sel)")
    assert picked == [5, 9]
    assert page.locator("#strip img").count() == 7


def test_slider_changes_the_image(page) -> None:
    before = canvas_digest(page, "#decoded")
    slider = page.locator("#sliders input").first
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("document.getElementById('decoded-source').textContent === 'sliders'")
    assert canvas_digest(page, "#decoded") != before
    assert page.locator("#sliders .slider").count() == 2
    inactive = page.evaluate("window.__atlas.state.run.dims.filter((d) => !d.active).length")
    assert page.locator("#sliders .slider.inactive").count() == inactive


def test_upload_places_a_point(page, tmp_path: Path) -> None:
    digit = load_digits().test.images[0, 0].numpy()
    path = tmp_path / "digit.png"
    Image.fromarray(255 - digit).resize((64, 64)).save(path)  # dark on light: gets inverted
    page.set_input_files("#file", str(path))
    page.wait_for_function("window.__atlas.state.upload && window.__atlas.state.upload.position")
    pos = page.evaluate("window.__atlas.state.upload.position")
    assert all(abs(v) < 50 for v in pos)
    assert page.locator("#up-input").get_attribute("src").startswith("data:image/png")
    assert "inverted" in page.locator("#up-meta").inner_text()
    # the star is drawn on the overlay where the upload landed
    alpha = page.evaluate(
        """() => { const a = window.__atlas, s = a.scatter, c = document.getElementById('overlay');
        const [x, y] = s.toScreen(...a.state.upload.position);
        const px = Math.round(x * s.dpr), py = Math.round(y * s.dpr);
        return c.getContext('2d').getImageData(px, py, 1, 1).data[3]; }"""
    )
    assert alpha > 0


def test_dropping_an_image_on_the_map_encodes_it(page) -> None:
    digit = load_digits().test.images[4, 0].numpy()
    buf = io.BytesIO()
    Image.fromarray(digit).save(buf, format="PNG")
    page.evaluate(
        """(bytes) => {
        const file = new File([new Uint8Array(bytes)], 'd.png', {type: 'image/png'});
        const dt = new DataTransfer(); dt.items.add(file);
        document.getElementById('map-panel').dispatchEvent(
          new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); }""",
        list(buf.getvalue()),
    )
    page.wait_for_function("window.__atlas.state.upload && window.__atlas.state.upload.position")
    # the exact test image lands on that test image, its own nearest neighbour
    assert page.evaluate("window.__atlas.state.upload.detail.neighbours[0].index") == 4
    assert "not inverted" in page.locator("#up-meta").inner_text()


def test_samples_and_server_decoded_run(page) -> None:
    page.click("#sample")
    page.wait_for_function("document.querySelectorAll('#samples img').length === 36")
    page.select_option("#run", "conv3")
    page.wait_for_function("window.__atlas.state.ready && window.__atlas.state.run.id === 'conv3'")
    assert page.evaluate("window.__atlas.state.decoder") is None
    assert page.evaluate("window.__atlas.state.run.projections") == [
        "pca",
        "dims",
        "umap",
        "tsne",
        "orbit",
    ]
    box = page.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    before = page.evaluate("window.__atlas.metrics.decodes")
    page.mouse.move(box["x"] + 400, box["y"] + 300, steps=3)
    page.wait_for_function(f"window.__atlas.metrics.decodes > {before}")
    png = page.evaluate("document.getElementById('decoded').width")
    assert png == 28
    page.select_option("#projection", "dims")
    page.wait_for_function("window.__atlas.state.map.projection === 'dims'")
    assert page.locator("#dims-picker").is_visible()


def _wait_until_quiet(page, condition: str, quiet_ms: int = 300) -> None:
    """Wait for `condition`, no decode request open and none started or finished for a while.

    Between two requests the count of open ones is briefly 0 (the page sends the newest
    pending point after the previous answer is drawn), so "none open" alone is not the end.
    """
    page.wait_for_function(
        f"({condition}) && window.__inflight.now === 0"
        f" && performance.now() - window.__inflight.last > {quiet_ms}",
        timeout=10_000,
    )


def test_server_decoding_keeps_one_request_in_flight(page) -> None:
    page.select_option("#run", "conv3")
    page.wait_for_function("window.__atlas.state.ready && window.__atlas.state.run.id === 'conv3'")
    # count the page's own decode requests that are open at the same time
    page.evaluate(
        """() => { const c = window.__inflight = {now: 0, max: 0, total: 0, gate: null, last: 0};
        const orig = window.fetch;
        window.fetch = async (...args) => {
          const hit = String(args[0]).includes('decode.png');
          if (hit) {
            c.now++; c.total++; c.max = Math.max(c.max, c.now); c.last = performance.now();
          }
          try {
            if (hit && c.gate) await c.gate;
            const r = await orig(...args); if (hit) await r.clone().blob(); return r;
          } finally { if (hit) { c.now--; c.last = performance.now(); } }
        }; }"""
    )
    box = page.locator("#overlay").bounding_box()
    for k in range(30):  # real pointer moves, as fast as playwright sends them
        page.mouse.move(box["x"] + 100 + 7 * k, box["y"] + 150 + 3 * k)
    _wait_until_quiet(page, "window.__inflight.total > 0")
    state = page.evaluate("window.__inflight")
    assert state["total"] >= 1 and state["max"] == 1 and state["now"] == 0
    # a burst of 60 moves inside one frame is coalesced into (at most) one request
    before = state["total"]
    page.evaluate(
        """() => { const o = document.getElementById('overlay'), r = o.getBoundingClientRect();
        for (let k = 0; k < 60; k++) o.dispatchEvent(new PointerEvent('pointermove', {
          clientX: r.left + 300 + k, clientY: r.top + 200 + k, bubbles: true})); }"""
    )
    _wait_until_quiet(page, f"window.__inflight.total > {before}")
    state = page.evaluate("window.__inflight")
    assert 1 <= state["total"] - before <= 2 and state["max"] == 1
    # with a slow server, moves in 6 later frames while one request is out: only the newest
    # position is requested next, and it is the image left on screen. The server's answer is
    # held until the last move (a delay would race the frames, slow on a loaded machine)
    before = state["total"]
    page.evaluate(
        """() => new Promise((done) => {
        const c = window.__inflight;
        c.gate = new Promise((open) => { c.open = open; });
        const o = document.getElementById('overlay'), r = o.getBoundingClientRect();
        let k = 0;
        const move = () => {
          o.dispatchEvent(new PointerEvent('pointermove', {
            clientX: r.left + 250 + 20 * k, clientY: r.top + 260 + 10 * k, bubbles: true}));
          if (++k < 6) requestAnimationFrame(move);
          else setTimeout(() => { c.gate = null; c.open(); done(); });
        };
        requestAnimationFrame(move); })"""
    )
    _wait_until_quiet(page, f"window.__inflight.total >= {before + 2}")
    state = page.evaluate("window.__inflight")
    assert state["total"] - before == 2 and state["max"] == 1 and state["now"] == 0
    shown, wanted = page.evaluate(
        """() => { const a = window.__atlas;
        const [x, y] = a.scatter.toData(250 + 20 * 5, 260 + 10 * 5);
        const lin = a.state.map.linear, anchor = a.state.anchor, pa = a.project(anchor);
        const z = Array.from(anchor, (v, d) =>
          v + lin.axes[0][d] * (x - pa[0]) + lin.axes[1][d] * (y - pa[1]));
        return [a.metrics.shownZ, z]; }"""
    )
    assert shown == pytest.approx(wanted, abs=1e-4)


def test_screenshot_is_not_blank(page, tmp_path: Path) -> None:
    page.mouse.click(*point_on_screen(page, 12))
    page.wait_for_function("window.__atlas.state.sel.a && window.__atlas.state.sel.a.detail")
    shot = Image.open(io.BytesIO(page.screenshot()))
    colours = shot.convert("RGB").resize((64, 40)).getcolors(64 * 40)
    assert colours is not None and len(colours) > 50


def test_hooks_only_under_the_test_flag(browser, server: str) -> None:
    page = browser.new_page()
    page.goto(server)
    page.wait_for_function("document.getElementById('run-info').textContent.includes('active')")
    assert page.evaluate("typeof window.__atlas") == "undefined"
    page.close()


def test_class_colours_are_the_reports_palette(page) -> None:
    # matplotlib's tab10: class 0 #1f77b4, class 3 #d62728 (as in the report's figures)
    swatches = page.evaluate(
        "Array.from(document.querySelectorAll('#legend i'),"
        " (i) => getComputedStyle(i).backgroundColor)"
    )
    assert swatches[0] == "rgb(31, 119, 180)" and swatches[3] == "rgb(214, 39, 40)"
    # the points are drawn into a snapshot once the view rests: wait for it
    colours = """() => { const c = document.getElementById('points');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const has = (r, g, b) => { for (let i = 0; i < d.length; i += 4)
          if (d[i] === r && d[i+1] === g && d[i+2] === b) return true; return false; };
        return [has(31, 119, 180), has(214, 39, 40)]; }"""
    page.wait_for_function(f"({colours})().every(Boolean)", timeout=15_000)


def test_dimensions_are_numbered_from_one(page) -> None:
    names = page.locator("#sliders .slider .name").all_inner_texts()
    assert sorted(names) == ["z1", "z2"]
    page.select_option("#run", "conv3")
    page.wait_for_function("window.__atlas.state.ready && window.__atlas.state.run.id === 'conv3'")
    options = page.locator("#dim-x option").all_inner_texts()
    assert sorted(o.split(" ")[0] for o in options) == ["z1", "z2", "z3"]


def test_tick_steps_are_one_two_five(page) -> None:
    steps, ticks = page.evaluate(
        """async () => { const m = await import('./static/axes.js');
        return [[100, 60, 40, 10, 0.3].map(m.tickStep), m.ticks(-2.5, 2.5, 1)]; }"""
    )
    # about 90 px per tick: 0.9 -> 1, 1.5 -> 2, 2.25 -> 5, 9 -> 10, 300 -> 500
    assert steps == [1, 2, 5, 10, 500] and ticks == [-2, -1, 0, 1, 2]


def _light_fraction(page, radius: float) -> float:
    """Share of 36 spots at `radius` latent units from z = 0 where the axes canvas is light."""
    return page.evaluate(
        """(r) => { const s = window.__atlas.scatter, c = document.getElementById('points-axes');
        const ctx = c.getContext('2d'); let n = 0;
        for (let k = 0; k < 36; k++) {
          const t = (k + 0.5) * Math.PI / 18;
          const [x, y] = s.toScreen(r * Math.cos(t), r * Math.sin(t));
          const px = Math.round(x * s.dpr) - 1, py = Math.round(y * s.dpr) - 1;
          const d = ctx.getImageData(px, py, 3, 3).data;
          let light = false;
          for (let i = 0; i < d.length; i += 4) if (d[i] + d[i+1] + d[i+2] > 300) light = true;
          if (light) n++;
        }
        return n / 36; }""",
        radius,
    )


def test_prior_circle_has_radius_two_in_latent_units(page) -> None:
    for button in page.locator("#legend button").all():
        button.click()  # hide every class: only the axes and the circle stay on the canvas
    page.evaluate("new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))")
    assert _light_fraction(page, 2.0) > 0.3  # dashed: about half of the circle is drawn
    assert _light_fraction(page, 1.5) == 0 and _light_fraction(page, 2.6) == 0
    page.mouse.wheel(0, 400)  # zoom out: the circle shrinks on screen but keeps radius 2
    page.evaluate("new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))")
    assert _light_fraction(page, 2.0) > 0.3


def test_second_run_beside_with_linked_view(page) -> None:
    page.select_option("#compare", "conv3")
    page.wait_for_function("window.__atlas.state.compare && window.__atlas.state.compare.map")
    assert page.locator("#compare-panel").is_visible()
    box = page.locator("#overlay-2").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = page.evaluate("({...window.__atlas.scatter.view})")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 30, steps=5)
    page.mouse.up()
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(100)
    main, other = page.evaluate("[window.__atlas.scatter.view, window.__atlas.compareMap.view]")
    assert main == other and main != before
    page.wait_for_function("location.search.includes('cmp=conv3')")
    page.select_option("#compare", "")
    assert page.locator("#compare-panel").is_hidden()


def test_upload_says_how_it_was_normalised(page, tmp_path: Path) -> None:
    how = "as MNIST was made: the ink scaled to fit 20x20, its centre of mass at the centre"

    def add_normalisation(route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "normalisation": how})

    page.route("**/encode?**", add_normalisation)
    path = tmp_path / "digit.png"
    Image.fromarray(load_digits().test.images[0, 0].numpy()).save(path)
    page.set_input_files("#file", str(path))
    page.wait_for_function("window.__atlas.state.upload && window.__atlas.state.upload.position")
    assert f"laid out {how}" in page.locator("#up-meta").inner_text()
    # the picture beside it is what the encoder got: the server's normalised image
    sent = page.evaluate("window.__atlas.state.upload.detail.input")
    assert page.locator("#up-input").get_attribute("src") == sent


def test_inactive_threshold_comes_from_the_run(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 820})

    def lower(route) -> None:
        response = route.fetch()
        run = response.json()
        run["active_kl_threshold"] = 0.123
        run["dims"][1]["active"] = False
        route.fulfill(response=response, json=run)

    page.route(re.compile(r"/api/runs/vae2(\?[^/]*)?$"), lower)
    page.goto(server + "?test=1")
    page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=30_000)
    title = page.locator("#sliders .slider.inactive").get_attribute("title")
    assert "mean KL < 0.123 nats" in title
    page.close()


def test_score_bins_are_even_and_clipped(page) -> None:
    bins = page.evaluate(
        """async () => { const m = await import('./static/colouring.js');
        return Array.from(m.scoreBins([-1, 0, 0.49, 0.5, 1, 2], 0, 1, 2)); }"""
    )
    assert bins == [0, 0, 0, 1, 1, 1]


def test_points_coloured_by_anomaly_score(page) -> None:
    page.select_option("#colour-by", "anomaly")
    page.wait_for_function("window.__atlas.state.colourBy === 'anomaly'")
    assert page.locator("#legend .colour-bar").is_visible()
    assert "ELBO" in page.locator("#legend .colour-bar .name").inner_text()
    # the ramp's ends: viridis(0.2) #414487 for the most typical points, #fde725 the most unusual;
    # the points are drawn again once the view rests, so wait for the new snapshot
    colours = """() => { const c = document.getElementById('points');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const has = (r, g, b) => { for (let i = 0; i < d.length; i += 4)
          if (d[i] === r && d[i+1] === g && d[i+2] === b) return true; return false; };
        return [has(65, 68, 135), has(253, 231, 37), has(31, 119, 180)]; }"""
    page.wait_for_function(f"({colours})()[0]", timeout=15_000)
    found = page.evaluate(colours)
    assert found == [True, True, False]  # and no class colour left
    page.wait_for_function("location.search.includes('col=anomaly')")
