"""A figure that does not apply becomes a note; any other error while drawing fails the build."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from vae_atlas.report.items import FigureNotApplicable, FigureWriter


def _figure() -> Figure:
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [0, 1])
    return fig


def test_a_drawn_figure_is_saved_and_recorded(tmp_path):
    writer = FigureWriter(tmp_path, dpi=20)
    item = writer.add("line", "Training", "A line", "caption", _figure)
    assert item is not None and item.files == ("line.png",)
    assert (tmp_path / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert writer.items == [item] and writer.notes == []


def test_a_figure_that_does_not_apply_becomes_a_note(tmp_path):
    def draw():
        raise FigureNotApplicable("the data have no labels")

    writer = FigureWriter(tmp_path)
    assert writer.add("classes", "Latent space", "Classes", "caption", draw) is None
    assert writer.notes == ["Classes: not drawn (the data have no labels)"]
    assert writer.items == [] and not list(tmp_path.iterdir())


@pytest.mark.parametrize("error", [ValueError, TypeError, IndexError])
def test_any_other_error_while_drawing_propagates(tmp_path, error):
    def draw():
        raise error("a bug in a figure function")

    writer = FigureWriter(tmp_path)
    with pytest.raises(error, match="a bug"):
        writer.add("buggy", "Training", "Buggy", "caption", draw)
    assert writer.notes == []
