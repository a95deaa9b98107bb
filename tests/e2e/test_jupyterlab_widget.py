"""`va.explorer(run)` in a real JupyterLab (from PyPI), driven in chromium: the widget draws the
explorer's page, decodes under the pointer through kernel messages, and a selection made in the
page reaches Python as `widget.selection` (the server and checks: jupyter_host.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .jupyter_host import (
    check_hover_decodes,
    check_selection_reaches_python,
    chromium_page,
    jupyter,
    notebook_folder,
    open_widget,
)

pytest.importorskip("jupyterlab")
pytest.importorskip("anywidget")
pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a JupyterLab and a kernel start: ~30 s


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = notebook_folder(tmp_path_factory.mktemp("lab"))
    with jupyter("jupyterlab", root, extra=("--LabApp.news_url=",)) as url:
        yield url


def test_widget_draws_decodes_on_hover_and_reports_the_selection(lab: str, tmp_path: Path) -> None:
    with chromium_page() as page:
        frame = open_widget(page, f"{lab}/lab/tree/explore.ipynb")
        check_hover_decodes(page, frame)
        check_selection_reaches_python(page, frame)
        page.screenshot(path=str(tmp_path / "lab.png"))
