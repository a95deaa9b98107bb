"""One contract for every display and plotting function: it draws on the axes/figure it is given
(or a fresh one), returns what it drew, never touches pyplot's global figures, and draws the
expected number of panels/points."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vae_atlas.analysis.aggregate import aggregate_density  # noqa: E402
from vae_atlas.analysis.alignment import align_snapshots  # noqa: E402
from vae_atlas.analysis.anomaly import ood_separation  # noqa: E402
from vae_atlas.analysis.attributes import AttributeDirection, AttributeEdit  # noqa: E402
from vae_atlas.analysis.encode import LatentSet  # noqa: E402
from vae_atlas.analysis.grid import latent_grid  # noqa: E402
from vae_atlas.analysis.interpolation import Interpolation  # noqa: E402
from vae_atlas.analysis.projection import project_latents  # noqa: E402
from vae_atlas.analysis.traversal import Traversal  # noqa: E402
from vae_atlas.viz import (  # noqa: E402
    AggregateDisplay,
    AnomalyDisplay,
    AttributeDisplay,
    InterpolationDisplay,
    KLHeatmapDisplay,
    LatentScatter3DDisplay,
    LatentScatterDisplay,
    ManifoldDisplay,
    PosteriorCloudsDisplay,
    SnapshotsDisplay,
    TrainingCurvesDisplay,
    TraversalDisplay,
)
from vae_atlas.viz.style import render_rgb  # noqa: E402

RNG = np.random.default_rng(0)
N = 120
LABELS = RNG.integers(0, 10, N)
NAMES = tuple(str(i) for i in range(10))


def _images(n, c=1, h=8, w=8):
    return RNG.random((n, c, h, w)).astype(np.float32)


def _metrics(kl=True):
    rows = [
        {
            "epoch": 0,
            "test_neg_elbo": 50.0,
            "test_recon": 50.0,
            "test_kl": 0.0 if kl else None,
            "test_kl_per_dim": [0.0, 0.0, 0.0] if kl else None,
        }
    ]
    for e in range(1, 6):
        rows.append(
            {
                "epoch": e,
                "train_neg_elbo": 30 - e,
                "train_recon": 28 - e,
                "train_kl": 2.0 if kl else None,
                "test_neg_elbo": 31 - e,
                "test_recon": 29 - e,
                "test_kl": 2.0 if kl else None,
                "test_kl_per_dim": [1.0, 0.9, 0.001] if kl else None,
            }
        )
    return rows


def _interp(method, c=1):
    return Interpolation(
        method, np.linspace(0, 1, 7), np.zeros((7, 2)), _images(7, c), _images(2, c), 3, 5
    )


def _traversal(n_dims=3, steps=5, c=1):
    return Traversal(
        _images(n_dims * steps, c).reshape(n_dims, steps, c, 8, 8),
        np.arange(n_dims),
        np.linspace(-3, 3, steps),
        np.zeros(n_dims),
        np.array([1.0, 0.5, 0.0])[:n_dims],
        "KL (nats)",
        np.array([True, True, False])[:n_dims],
    )


def _scatter(labels=LABELS):
    mu = RNG.standard_normal((N, 2))
    lat = LatentSet(mu, None, labels)
    return LatentScatterDisplay.from_latents(
        lat, project_latents(mu, "identity"), None if labels is None else NAMES
    )


def _snapshots():
    mus = [RNG.standard_normal((40, 4)) for _ in range(6)]
    return SnapshotsDisplay(align_snapshots(list(range(6)), mus), LABELS[:40], 10)


def _grid_display(c=1):
    grid = latent_grid(4, 2)
    return ManifoldDisplay(grid, _images(16, c))


def _edit(c=1):
    d = AttributeDirection(np.ones(2), "make the 4 a 9", 10, 12)
    return AttributeEdit(d, np.zeros(2), np.linspace(0, 1.5, 7), _images(7, c), _images(1, c)[0])


def _aggregate():
    mu = RNG.standard_normal((200, 2))
    return AggregateDisplay(aggregate_density(mu, np.full((200, 2), -2.0), size=41))


def _anomaly(ood=True):
    s_in = RNG.normal(20, 2, 300)
    res = ood_separation(s_in, RNG.normal(30, 3, 100), name="shapes") if ood else None
    return AnomalyDisplay(s_in, res)


# (name, factory, how to plot, check(display) -> None)
def _check_points(n):
    def check(d):
        assert len(d.points_.get_offsets()) == n

    return check


CASES = {
    "scatter": (_scatter, "ax", _check_points(N)),
    "scatter-unlabelled": (
        lambda: _scatter(None),
        "ax",
        lambda d: d.ax_.get_legend() is None or pytest.fail("legend drawn"),
    ),
    "scatter3d": (
        lambda: LatentScatter3DDisplay(RNG.standard_normal((N, 3)), LABELS, NAMES),
        "fig",
        lambda d: len(d.axes_) == 3 or pytest.fail("expected 3 views"),
    ),
    "clouds": (
        lambda: PosteriorCloudsDisplay(
            RNG.standard_normal((30, 2)), np.full((30, 2), 0.3), LABELS[:30], NAMES
        ),
        "ax",
        lambda d: (
            (len(d.ellipses_) == 2 and len(d.ellipses_[0].get_offsets()) == 30)
            or pytest.fail("expected 2 ellipse levels of 30")
        ),
    ),
    "clouds-ae": (
        lambda: PosteriorCloudsDisplay(RNG.standard_normal((30, 2)) * 9, None),
        "ax",
        lambda d: d.ellipses_ == [] or pytest.fail("AE has no clouds"),
    ),
    "manifold": (_grid_display, "ax", lambda d: len(d.tiles_) == 1 or pytest.fail("one mosaic")),
    "manifold-rgb": (lambda: _grid_display(3), "ax", None),
    "interpolation": (
        lambda: InterpolationDisplay([_interp("linear"), _interp("slerp")]),
        "fig",
        lambda d: len(d.axes_) == 2 or pytest.fail("one row per method"),
    ),
    "traversal": (
        lambda: TraversalDisplay(_traversal()),
        "ax",
        lambda d: len(d.shaded_) == 1 or pytest.fail("1 inactive"),
    ),
    "attribute": (lambda: AttributeDisplay(_edit()), "ax", None),
    "attribute-rgb": (lambda: AttributeDisplay(_edit(3)), "ax", None),
    "training": (
        lambda: TrainingCurvesDisplay(_metrics()),
        "fig",
        lambda d: len(d.lines_) == 6 or pytest.fail(f"{len(d.lines_)} lines"),
    ),
    "training-ae": (
        lambda: TrainingCurvesDisplay(_metrics(kl=False)),
        "fig",
        lambda d: len(d.lines_) == 4 or pytest.fail(f"{len(d.lines_)} lines"),
    ),
    "kl-heatmap": (
        lambda: KLHeatmapDisplay.from_metrics(_metrics()),
        "ax",
        lambda d: d.image_.get_array().shape == (3, 6) or pytest.fail("shape"),
    ),
    "snapshots": (_snapshots, "fig", lambda d: len(d.axes_) == 6 or pytest.fail("6 panels")),
    "aggregate": (_aggregate, "fig", lambda d: len(d.axes_) == 2 or pytest.fail("2 panels")),
    "anomaly": (lambda: _anomaly(False), "fig", lambda d: len(d.axes_) == 1 or pytest.fail("1")),
    "anomaly-ood": (_anomaly, "fig", lambda d: len(d.axes_) == 2 or pytest.fail("hist + ROC")),
}


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a display registered a pyplot figure"


@pytest.mark.parametrize("name", sorted(CASES))
def test_display_draws_on_a_fresh_figure_and_returns_itself(name):
    factory, _, check = CASES[name]
    display = factory()
    assert display.plot() is display
    assert isinstance(display.figure_, Figure)
    if check is not None:
        check(display)


@pytest.mark.parametrize("name", sorted(CASES))
def test_display_draws_where_it_is_told(name):
    factory, target, _ = CASES[name]
    fig = Figure()
    display = factory()
    if target == "ax":
        ax = fig.add_subplot()
        display.plot(ax=ax)
        assert display.ax_ is ax
    else:
        display.plot(fig=fig)
    assert display.figure_ is fig
    assert render_rgb(fig).ndim == 3  # draws without error


@pytest.mark.parametrize(
    "make",
    [
        lambda: TraversalDisplay(_traversal()),
        lambda: _snapshots(),
        lambda: LatentScatter3DDisplay(RNG.standard_normal((N, 3))),
    ],
)
def test_animated_displays_give_equal_sized_rgb_frames(make):
    display = make()
    frames = (
        display.frames(size_px=120)
        if not isinstance(display, TraversalDisplay)
        else display.frames(size_px=48)
    )
    assert len(frames) >= 2
    assert all(
        f.shape == frames[0].shape and f.dtype == np.uint8 and f.shape[2] == 3 for f in frames
    )
    assert any(not np.array_equal(frames[0], f) for f in frames[1:])  # something moves


def _png_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    with Image.open(io.BytesIO(png)) as image:
        return image.size


@pytest.mark.parametrize("name", sorted(CASES))
def test_display_shows_itself_in_a_notebook(name):
    factory, target, _ = CASES[name]
    undrawn = factory()
    w, h = _png_size(undrawn._repr_png_())  # drawn with plot()'s defaults first
    assert isinstance(undrawn.figure_, Figure) and w > 50 and h > 50
    fig = Figure(figsize=(3.0, 2.0), dpi=50)
    drawn = factory()
    drawn.plot(**({"ax": fig.add_subplot()} if target == "ax" else {"fig": fig}))
    assert _png_size(drawn._repr_png_()) == (150, 100)  # the figure it was drawn on
