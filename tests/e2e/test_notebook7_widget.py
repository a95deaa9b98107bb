"""`va.explorer(run)` in Notebook 7 (the `notebook` package from PyPI, on Jupyter Server with a
token), driven in chromium: the widget draws the explorer's page, decodes under the pointer,
and a selection made in the page reaches Python as `widget.selection` (the server and checks:
jupyter_host.py, shared with the JupyterLab test).
"""

from __future__ import annotations

import secrets
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

pytest.importorskip("notebook", minversion="7")
pytest.importorskip("anywidget")
pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a Jupyter server and a kernel start


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = notebook_folder(tmp_path_factory.mktemp("notebook7"))
    token = secrets.token_hex(16)
    with jupyter("notebook", root, token=token) as url:
        yield url, token


def test_widget_in_notebook7_draws_decodes_on_hover_and_reports_the_selection(
    notebook7: tuple[str, str], tmp_path: Path
) -> None:
    url, token = notebook7
    with chromium_page() as page:
        frame = open_widget(page, f"{url}/notebooks/explore.ipynb?token={token}")
        check_hover_decodes(page, frame)
        check_selection_reaches_python(page, frame)
        page.screenshot(path=str(tmp_path / "notebook7.png"))
