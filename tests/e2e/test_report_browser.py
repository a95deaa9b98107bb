"""The report's index.html renders in headless chromium without console errors, every image
loads, and a full-page screenshot is taken (saved next to the report for a human to look at)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vae_atlas.config import DataConfig
from vae_atlas.data import load_dataset
from vae_atlas.report import ReportOptions, build_comparison, build_report
from vae_atlas.training import train

from ..tiny_runs import tiny_config
from .browser import CHROMIUM, chromium

pytestmark = [
    pytest.mark.browser,
    # skipped before the reports are trained (chromium() would skip only after)
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("browser")
    data = load_dataset(DataConfig(name="digits"))
    runs = []
    for objective in ("ae", "vae"):
        cfg = tiny_config(objective, hidden=(64,), batch_size=128, lr=3e-3, probe_size=100)
        train(cfg, root / objective, dataset=data, progress=False)
        runs.append(root / objective)
    opts = ReportOptions(grid_size=8, n_clouds=30)
    return [build_report(runs[1], options=opts), build_comparison(runs, root / "cmp", options=opts)]


def _render(index: Path) -> tuple[list[str], list[str], int]:
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
        page.goto(index.as_uri())
        page.evaluate(
            "() => Promise.all([...document.images].map(i => { i.loading = 'eager';"
            " return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; });"
            " }))"
        )
        broken = page.evaluate(
            "() => [...document.images].filter(i => !i.complete || "
            "i.naturalWidth === 0).map(i => i.getAttribute('src'))"
        )
        count = page.evaluate("() => document.images.length")
        page.screenshot(path=str(index.parent / "screenshot.png"), full_page=True)
    return errors, broken, count


@pytest.mark.parametrize("which", [0, 1], ids=["report", "comparison"])
def test_report_renders_without_errors_and_all_images_load(reports, which):
    errors, broken, count = _render(reports[which])
    assert count >= 7
    assert broken == []
    assert errors == []
    assert (reports[which].parent / "screenshot.png").stat().st_size > 10_000
