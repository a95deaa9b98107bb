"""What the figures show, checked against hand-computed content: the decoded manifold of a
decoder whose output is a known function of z, and the scatter's points and colours."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from torch import nn  # noqa: E402

from vae_atlas.analysis.encode import LatentSet  # noqa: E402
from vae_atlas.analysis.projection import project_latents  # noqa: E402
from vae_atlas.report.context import AtlasContext  # noqa: E402
from vae_atlas.report.latent_figures import manifold  # noqa: E402
from vae_atlas.report.options import ReportOptions  # noqa: E402
from vae_atlas.report.source import source_from_model  # noqa: E402
from vae_atlas.viz import LatentScatterDisplay  # noqa: E402

from ..conftest import make_blobs_dataset  # noqa: E402


class CdfDecoder(nn.Module):
    """Decodes z (B, 2) to a 4x4 image: left half Φ(z1), right half Φ(z2) (standard normal CDF).

    On a prior-quantile grid Φ(z) is the cell's quantile level, so every cell's intensity is known.
    """

    latent_dim = 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = x.flatten(1)[:, :2]  # (B, 2)
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        cdf = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))  # (B, 2)
        img = torch.empty(z.shape[0], 1, 4, 4)
        img[..., :2] = cdf[:, 0, None, None, None]
        img[..., 2:] = cdf[:, 1, None, None, None]
        return img


def test_manifold_cells_show_the_prior_quantile_of_their_position():
    k = 5
    data = make_blobs_dataset(n=40, size=4)
    ctx = AtlasContext(source_from_model(CdfDecoder(), data), ReportOptions(grid_size=k))
    display, _ = manifold(ctx)
    mosaic = np.asarray(display.plot().tiles_[0].get_array())  # (k·5 − 1, k·5 − 1), pad 1
    levels = (np.arange(k) + 0.5) / k  # the quantile level of each cell centre
    for r in range(k):
        for q in range(k):
            cell = mosaic[r * 5 : r * 5 + 4, q * 5 : q * 5 + 4]
            # z1 grows to the right; z2 grows upwards (top row = highest z2)
            assert cell[:, :2] == pytest.approx(np.full((4, 2), levels[q]), abs=1e-5)
            assert cell[:, 2:] == pytest.approx(np.full((4, 2), levels[k - 1 - r]), abs=1e-5)


def test_scatter_draws_every_point_once_in_its_class_colour():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [30, 50, 20])
    mu = rng.normal(size=(100, 2)) + labels[:, None] * 5.0
    lat = LatentSet(mu, None, labels)
    d = LatentScatterDisplay.from_latents(lat, project_latents(mu, "identity"), ("a", "b", "c"))
    d.plot()
    offsets = np.asarray(d.points_.get_offsets())
    colours = d.points_.get_facecolors()
    assert len(offsets) == 100
    # each drawn point is one of the codes, each code drawn once
    match = [int(np.argmin(np.abs(mu - p).sum(1))) for p in offsets]
    assert sorted(match) == list(range(100))
    np.testing.assert_allclose(mu[match], offsets)
    drawn = {c: {tuple(np.round(colours[i, :3], 6)) for i in range(100) if labels[match[i]] == c}
             for c in range(3)}  # fmt: skip
    assert all(len(v) == 1 for v in drawn.values())  # one colour per class
    assert len(set().union(*drawn.values())) == 3  # and three different ones
    legend = d.ax_.get_legend()
    for c, (text, handle) in enumerate(zip(legend.get_texts(), legend.legend_handles, strict=True)):
        assert text.get_text() == "abc"[c]
        assert drawn[c] == {tuple(np.round(to_rgba(handle.get_markerfacecolor())[:3], 6))}
