"""`vae-atlas explore RUN --follow` while the run trains: the explorer runs as its own process
(the CLI), training runs here, and chromium watches the epoch advance and the map move to the
newest weights' codes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_atlas import load_run, train
from vae_atlas.data import load_digits

from ..explorer.conftest import tiny_config
from ..explorer.test_explore_command import start, stop
from .test_explorer_map_browser import browser, open_map, screen_points, settle

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the chromium fixture, shared with the map tests


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
        # train on while the page watches: two more epochs, as `train --resume --epochs 3` does
        cfg = tiny_config("vae", 2, epochs=3)
        train(cfg, out, dataset=data, resume=True, progress=False, log=print)
        chip = "document.getElementById('follow-chip').textContent"
        page.wait_for_function(f"{chip}.startsWith('epoch 3 of 3 · complete')", timeout=60_000)
        assert page.evaluate("window.__atlas.state.run.version") >= 1, page.locator(
            "#status"
        ).inner_text()
        settle(page)
        # the map shows the newest weights' codes, and the selection was described again with them
        run = load_run(out)
        with torch.no_grad():
            mu = run.model.encode(run.dataset.test.float_images())[0].double().numpy()
        view = page.evaluate("window.__atlas.scatter.view")
        w, h = page.evaluate("Object.values(window.__atlas.scatter.cssSize())")
        expected = np.c_[
            (mu[:, 0] - view["cx"]) * view["scale"] + w / 2,
            h / 2 - (mu[:, 1] - view["cy"]) * view["scale"],
        ]
        assert np.abs(screen_points(page) - expected).max() < 0.05
        page.wait_for_function("window.__atlas.state.sel.a.detail && window.__atlas.state.sel.a.z")
        np.testing.assert_allclose(
            page.evaluate("Array.from(window.__atlas.state.sel.a.z)"), mu[4], atol=1e-4
        )
        chip = page.locator("#follow-chip").inner_text()
        assert "−ELBO (validation)" in chip
        page.close()
        assert not page.errors, page.errors
    finally:
        stop(proc)
