"""The 3-D orbit view in chromium: a drag turns it, hovering decodes the point under the
pointer, picking and the selection follow the turn. Screen positions are checked against a
projection computed here, in numpy, from the model's own codes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from vae_atlas import load_run, train
from vae_atlas.data import load_digits

from ..explorer.conftest import tiny_config
from .test_explorer_map_browser import browser, open_map, screen_points, serve, settle

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the chromium fixture, shared with the map tests


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """Turn by yaw about the screen's vertical axis, then by pitch about its horizontal one."""
    c, s = np.cos(yaw), np.sin(yaw)
    turn_yaw = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    c, s = np.cos(pitch), np.sin(pitch)
    turn_pitch = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return turn_pitch @ turn_yaw


@pytest.fixture(scope="module")
def run3(tmp_path_factory: pytest.TempPathFactory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("orbit-run")
    train(tiny_config("vae", 3), root / "vae3", dataset=load_digits(), progress=False, log=print)
    return load_run(root / "vae3")


@pytest.fixture(scope="module")
def server(run3) -> Iterator[str]:
    yield from serve([run3])


def expected_screen(page, mu: np.ndarray) -> np.ndarray:
    """Where each code should be drawn: turned by the page's orientation, then scaled and
    shifted by its view (x to the right, y up)."""
    orbit = page.evaluate("window.__atlas.state.orbit")
    view = page.evaluate("window.__atlas.scatter.view")
    w, h = page.evaluate("Object.values(window.__atlas.scatter.cssSize())")
    p = mu @ rotation(orbit["yaw"], orbit["pitch"])[:2].T  # (N, 2) latent units
    return np.c_[
        (p[:, 0] - view["cx"]) * view["scale"] + w / 2,
        h / 2 - (p[:, 1] - view["cy"]) * view["scale"],
    ]


def drag(page, box, start, by) -> None:
    page.mouse.move(box["x"] + start[0], box["y"] + start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + start[0] + by[0], box["y"] + start[1] + by[1], steps=8)
    page.mouse.up()


@pytest.mark.parametrize("renderer", ["webgl", "canvas"])
def test_drag_turns_the_view_and_hover_decodes_the_point_there(
    browser, server, run3, renderer
) -> None:
    test = run3.dataset.test
    with torch.no_grad():
        mu = run3.model.encode(test.float_images())[0].double().numpy()
    page = open_map(browser, server, f"&proj=orbit&renderer={renderer}")
    page.wait_for_function("window.__atlas.state.map && window.__atlas.state.map.xyz")
    assert page.locator("#orbit-reset").is_visible()
    before = page.evaluate("window.__atlas.state.orbit")
    box = page.locator("#overlay").bounding_box()
    drag(page, box, (200, 200), (80, 40))
    settle(page)
    after = page.evaluate("window.__atlas.state.orbit")
    # right turns about the vertical axis, down about the horizontal one
    assert after["yaw"] > before["yaw"] + 0.3 and after["pitch"] > before["pitch"] + 0.15
    xy = expected_screen(page, mu)
    assert np.abs(screen_points(page) - xy).max() < 0.05
    # hover the most isolated point on screen: the point picked is the nearest, and its code
    # (a 3-D latent: its own mean) is decoded
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    on = (xy[:, 0] > 20) & (xy[:, 0] < box["width"] - 20)
    on &= (xy[:, 1] > 20) & (xy[:, 1] < box["height"] - 20)
    target = int(np.flatnonzero(on)[d[on].min(1).argmax()])
    pointer = xy[target] + [2.0, 1.0]
    assert np.linalg.norm(xy - pointer, axis=1).argmin() == target
    page.mouse.move(box["x"] + pointer[0], box["y"] + pointer[1])
    page.wait_for_function(
        f"document.getElementById('hover-point').textContent.includes('#{target} ')"
    )
    page.wait_for_function(
        f"document.getElementById('decoded-source').textContent.startsWith('test image #{target}')"
    )
    np.testing.assert_allclose(
        page.evaluate("window.__atlas.metrics.shownZ"), mu[target], atol=1e-4
    )
    shown = np.array(
        page.evaluate(
            """() => { const c = document.getElementById('decoded');
            return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""
        )
    ).reshape(8, 8, 4)[..., 0]
    with torch.no_grad():
        truth = run3.model.decode(torch.as_tensor(mu[target : target + 1], dtype=torch.float32))
    assert np.abs(shown / 255 - truth[0, 0].numpy()).max() <= 1.5 / 255
    # wheel zooms in, a click selects the picked point, placed by the server on the turned map
    scale = page.evaluate("window.__atlas.scatter.view.scale")
    page.mouse.wheel(0, -200)
    page.wait_for_function(f"window.__atlas.scatter.view.scale > {scale * 1.2}")
    settle(page)
    xy = expected_screen(page, mu)
    page.mouse.click(box["x"] + xy[target, 0] + 1, box["y"] + xy[target, 1])
    page.wait_for_function(
        f"((window.__atlas.state.sel.a || {{}}).detail || {{}}).index === {target}"
    )
    orbit = page.evaluate("window.__atlas.state.orbit")
    turned = mu[target] @ rotation(orbit["yaw"], orbit["pitch"])[:2].T
    np.testing.assert_allclose(
        page.evaluate("window.__atlas.state.sel.a.position"), turned, atol=1e-4
    )
    # turning again carries the selection along
    drag(page, box, (150, 400), (-50, -60))
    settle(page)
    orbit = page.evaluate("window.__atlas.state.orbit")
    turned = mu[target] @ rotation(orbit["yaw"], orbit["pitch"])[:2].T
    np.testing.assert_allclose(
        page.evaluate("window.__atlas.state.sel.a.position"), turned, atol=1e-4
    )
    page.click("#orbit-reset")
    page.wait_for_function("window.__atlas.state.orbit.yaw === 0.6")
    assert page.evaluate("window.__atlas.state.orbit") == before
    page.wait_for_function("new URLSearchParams(location.search).get('orb') === '0.600,0.350'")
    page.close()
    assert not page.errors, page.errors
