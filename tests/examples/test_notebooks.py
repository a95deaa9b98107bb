"""The notebooks in examples/ run top to bottom in a fresh kernel (nbclient), on the bundled
digits with a few epochs, and show what they promise: run cards, figures and the widget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SRC = Path(__file__).resolve().parents[2] / "src"
WIDGET = "application/vnd.jupyter.widget-view+json"


def run_notebook(name: str, cwd: Path, **parameters: object) -> nbformat.NotebookNode:
    """Execute examples/``name`` in ``cwd`` with ``parameters`` set after its parameters cell."""
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    env_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env_path]))
    try:
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}
        )
        client.execute()
    finally:
        if env_path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = env_path
    return notebook


def outputs(notebook, mime: str) -> list:
    return [
        o["data"][mime]
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "data" in o and mime in o["data"]
    ]


def test_notebooks_are_committed_without_outputs() -> None:
    for path in sorted(EXAMPLES.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for c in notebook.cells:
            if c.cell_type == "code":
                assert not c.outputs and c.execution_count is None, f"{path.name} has outputs"


@pytest.mark.slow  # two trainings and a kernel start: about 40 s on the shared 2-core machine
def test_ae_vs_vae_runs_and_shows_cards_figure_and_widget(tmp_path: Path) -> None:
    notebook = run_notebook("ae_vs_vae.ipynb", tmp_path, EPOCHS=2, OUT=str(tmp_path / "runs"))
    cards = [h for h in outputs(notebook, "text/html") if "vae-atlas-run" in h]
    assert len(cards) == 2 and all("va-numbers" in h for h in cards)
    assert len(outputs(notebook, "image/png")) == 1  # the two scatters, one figure
    assert len(outputs(notebook, WIDGET)) == 1
    last = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert last == "[]"  # nothing selected: nobody clicked


@pytest.mark.slow  # a kernel start and a short training: about 25 s on the shared machine
def test_bring_your_own_model_runs(tmp_path: Path) -> None:
    notebook = run_notebook("bring_your_own_model.ipynb", tmp_path, EPOCHS=2)
    assert len(outputs(notebook, "image/png")) == 1  # the scatter Display, shown as its figure
    assert len(outputs(notebook, WIDGET)) == 1


@pytest.mark.slow  # draws faces and trains a conv model: about a minute on the shared machine
def test_faces_attributes_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_ATLAS_DATA", str(tmp_path / "cache"))  # the kernel inherits it
    notebook = run_notebook(
        "faces_attributes.ipynb", tmp_path, N_IMAGES=160, EPOCHS=1, OUT=str(tmp_path / "runs")
    )
    cards = [h for h in outputs(notebook, "text/html") if "vae-atlas-run" in h]
    assert len(cards) == 1 and "celeba" in cards[0]
    assert len(outputs(notebook, WIDGET)) == 1
    assert notebook.cells[-1].outputs[0]["data"]["text/plain"] == "[]"
