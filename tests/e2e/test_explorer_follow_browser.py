"""`vae-atlas explore RUN --follow` while the run trains: the explorer runs as its own process
(the CLI), training runs here, and chromium watches the epoch advance, the map move to the
newest weights' codes turned onto the map shown before, and the pointer decode the code that the
turned map places under it."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch

from vae_atlas import load_run, train
from vae_atlas.data import load_digits

from ..explorer.conftest import tiny_config
from ..explorer.test_explore_command import start, stop
from ..explorer.test_follow import procrustes_onto
from .test_explorer_map_browser import browser, open_map, screen_points, settle

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the chromium fixture, shared with the map tests


def data_points(page) -> np.ndarray:
    """Every point's map position (N, 2), in map units."""
    return np.array(
        page.evaluate(
            "[Array.from(window.__atlas.scatter.x), Array.from(window.__atlas.scatter.y)]"
        )
    ).T


def on_screen(page, xy: np.ndarray) -> np.ndarray:
    """Map positions (N, 2) in CSS pixels on the map, by the view's pan and zoom."""
    view = page.evaluate("window.__atlas.scatter.view")
    w, h = page.evaluate("Object.values(window.__atlas.scatter.cssSize())")
    return np.c_[
        (xy[:, 0] - view["cx"]) * view["scale"] + w / 2,
        h / 2 - (xy[:, 1] - view["cy"]) * view["scale"],
    ]


def to_data(page, pixel: np.ndarray) -> np.ndarray:
    """A CSS-pixel position on the map back in map units (the inverse of ``on_screen``)."""
    view = page.evaluate("window.__atlas.scatter.view")
    w, h = page.evaluate("Object.values(window.__atlas.scatter.cssSize())")
    return np.array(
        [
            (pixel[0] - w / 2) / view["scale"] + view["cx"],
            view["cy"] - (pixel[1] - h / 2) / view["scale"],
        ]
    )


def decoded_pixels(page) -> np.ndarray:
    """The big decoded image's grey values (8, 8), 0–255."""
    rgba = page.evaluate(
        """() => { const c = document.getElementById('decoded');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""
    )
    return np.asarray(rgba, dtype=np.float64).reshape(8, 8, 4)[..., 0]


def test_the_page_follows_a_run_while_it_trains(browser, tmp_path) -> None:
    torch.set_num_threads(1)
    data, out = load_digits(), tmp_path / "live"
    train(tiny_config("vae", 2, epochs=1), out, dataset=data, progress=False, log=print)
    proc, url = start(str(out), "--port", "0", "--follow")
    try:
        page = open_map(browser, url)
        page.wait_for_function(
            "document.getElementById('follow-chip').textContent.startsWith('epoch 1 of 1')"
        )
        assert page.locator("#follow-chip").is_visible()
        page.locator("#search").fill("#4")
        page.locator("#search").press("Enter")
        page.wait_for_function("(window.__atlas.state.sel.a || {}).detail")
        first = data_points(page)
        # train on while the page watches: two more epochs, as `train --resume --epochs 3` does,
        # in a copy whose files then land at once (weights first, state.json last, as training
        # writes them), so the page sees one new epoch and turns its map onto the first one's
        side = tmp_path / "side"
        shutil.copytree(out, side)
        train(tiny_config("vae", 2, epochs=3), side, dataset=data, resume=True, progress=False)
        for name in ("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "state.json"):
            os.replace(side / name, out / name)
        chip = "document.getElementById('follow-chip').textContent"
        page.wait_for_function(f"{chip}.startsWith('epoch 3 of 3 · complete')", timeout=60_000)
        assert page.evaluate("window.__atlas.state.run.version") >= 1, page.locator(
            "#status"
        ).inner_text()
        settle(page)
        # the map shows the newest weights' codes turned onto the map shown before (SciPy's
        # Procrustes), and the selection was described again with them
        run = load_run(out)
        with torch.no_grad():
            mu = run.model.encode(run.dataset.test.float_images())[0].double().numpy()
        aligned = procrustes_onto(mu, first)
        assert np.abs(screen_points(page) - on_screen(page, aligned)).max() < 0.05
        # the pointer decodes the code that the turned map places under it: the affine map
        # from the aligned positions back to the codes (exact here, a 2-D space) gives it
        lstsq = np.linalg.lstsq(np.c_[aligned, np.ones(len(mu))], mu, rcond=None)[0]  # (3, 2)
        box = page.locator("#overlay").bounding_box()
        pointer = np.array([box["width"] * 0.4, box["height"] * 0.45])
        before = page.evaluate("window.__atlas.metrics.decodes")
        page.mouse.move(box["x"] + pointer[0], box["y"] + pointer[1])
        page.wait_for_function(f"window.__atlas.metrics.decodes > {before}")
        z = np.r_[to_data(page, pointer), 1.0] @ lstsq
        np.testing.assert_allclose(page.evaluate("window.__atlas.metrics.shownZ"), z, atol=1e-4)
        with torch.no_grad():
            truth = run.model.decode(torch.as_tensor(z[None], dtype=torch.float32))[0, 0]
        assert np.abs(decoded_pixels(page) / 255 - truth.numpy()).max() <= 1.5 / 255
        page.wait_for_function("window.__atlas.state.sel.a.detail && window.__atlas.state.sel.a.z")
        np.testing.assert_allclose(
            page.evaluate("Array.from(window.__atlas.state.sel.a.z)"), mu[4], atol=1e-4
        )
        chip = page.locator("#follow-chip").inner_text()
        assert "−ELBO (validation)" in chip and "map aligned to the previous epoch" in chip
        page.close()
        assert not page.errors, page.errors
    finally:
        stop(proc)
