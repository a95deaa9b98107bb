import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vae_atlas.analysis.sampling import Reconstructions, Samples  # noqa: E402
from vae_atlas.viz import (  # noqa: E402
    image_mosaic,
    plot_anomaly_examples,
    plot_image_grid,
    plot_prior_samples,
    plot_reconstructions,
)
from vae_atlas.viz.style import class_colors, label_colors  # noqa: E402


def test_mosaic_layout_grey_and_rgb():
    grey = np.zeros((5, 1, 2, 3))
    grey[4] = 1.0
    m = image_mosaic(grey, 2, pad=1, fill=0.5)
    assert m.shape == (3 * 2 + 2, 2 * 3 + 1)
    assert m[6, 0] == 1.0 and m[6, 4] == 0.5  # the fifth image, then an empty cell
    rgb = image_mosaic(np.ones((3, 3, 4, 4)), 3)
    assert rgb.shape == (4, 14, 3)


@pytest.mark.parametrize("channels", [1, 3])
def test_image_functions_return_their_figure(channels):
    imgs = np.random.default_rng(0).random((12, channels, 6, 6))
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_image_grid(imgs, ncols=4, ax=ax) is fig
    assert len(ax.get_images()) == 1
    assert isinstance(plot_prior_samples(Samples(np.zeros((12, 2)), imgs)), Figure)
    rec = Reconstructions(imgs[:7], imgs[:7], np.arange(7))
    fig = plot_reconstructions(rec, ncols=5)
    assert len(fig.axes[0].get_yticks()) == 4  # input/recon for two blocks
    fig = plot_anomaly_examples(imgs[:4], np.arange(4.0), imgs[:3], np.arange(3.0))
    assert sum(ax.get_visible() for ax in fig.axes) == 7


def test_class_colours_are_tab10_and_unlabelled_is_one_colour():
    colors = class_colors(10)
    assert len({tuple(c) for c in colors}) == 10
    single = label_colors(None, 5)
    assert len({tuple(c) for c in single}) == 1
    assert len(class_colors(25)) == 25
