"""The posterior clouds' backdrop: N(0, I)'s circles, or a model's own mixture prior on the plane
with the regions holding the mass N(0, I) holds within radius 1, 2, 3, checked against scipy's
densities and the standard normal's closed form."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from scipy.stats import multivariate_normal  # noqa: E402

from vae_atlas.analysis.aggregate import (  # noqa: E402
    PlaneMixture,
    highest_density_levels,
    plane_prior,
)
from vae_atlas.models import MixturePrior  # noqa: E402
from vae_atlas.viz import PosteriorCloudsDisplay  # noqa: E402


def test_highest_density_levels_of_the_standard_normal_are_its_circles():
    """N(0, I) in 2-D holds 1 − e^{−r²/2} within radius r, and its density on that circle is
    e^{−r²/2}/2π: the levels for the masses of r = 1, 2, 3 are those densities."""
    axis = np.linspace(-7, 7, 1401)
    gx, gy = np.meshgrid(axis, axis)
    density = np.exp(-0.5 * (gx**2 + gy**2)) / (2 * math.pi)
    masses = tuple(1 - math.exp(-0.5 * r * r) for r in (1, 2, 3))
    levels = highest_density_levels(density, (axis[1] - axis[0]) ** 2, masses)
    expected = np.array([math.exp(-0.5 * r * r) / (2 * math.pi) for r in (3, 2, 1)])
    np.testing.assert_allclose(levels, expected, rtol=0.02)


def test_plane_prior_is_the_mixtures_marginal_on_the_chosen_dimensions():
    means = torch.tensor([[-2.0, 0.0, 5.0], [1.5, 1.0, -5.0]])
    logvars = torch.tensor([[math.log(0.25), 9.0, 0.0], [math.log(0.5), 9.0, math.log(2.0)]])
    plane = plane_prior(MixturePrior(means, logvars, "a mixture"), (0, 2))
    assert plane is not None and plane.label == "a mixture"
    points = np.array([[-2.0, 5.0], [1.5, -5.0], [0.0, 0.0], [-1.0, 4.0]])
    expected = 0.5 * multivariate_normal.pdf(points, [-2.0, 5.0], np.diag([0.25, 1.0])) + \
        0.5 * multivariate_normal.pdf(points, [1.5, -5.0], np.diag([0.5, 2.0]))  # fmt: skip
    np.testing.assert_allclose(plane.density(points), expected, rtol=1e-6)
    zeros = torch.zeros(1, 3)
    assert plane_prior(MixturePrior(zeros, zeros, "N(0, I)", standard=True), (0, 1)) is None
    assert plane_prior(None, (0, 1)) is None


def test_clouds_draw_the_models_prior_as_the_backdrop():
    plane = PlaneMixture(
        np.array([[-2.0, 0.0], [2.0, 1.0]]), np.array([[0.5, 0.5], [0.7, 0.4]]), "a mixture"
    )
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 1.5, (20, 2))
    display = PosteriorCloudsDisplay(mu, np.full((20, 2), 0.3), prior=plane).plot()
    grid, density = display.prior_grid_, display.prior_density_
    gx, gy = np.meshgrid(grid, grid)
    expected = 0.5 * multivariate_normal.pdf(np.dstack([gx, gy]), [-2, 0], np.diag([0.25, 0.25]))
    expected += 0.5 * multivariate_normal.pdf(np.dstack([gx, gy]), [2, 1], np.diag([0.49, 0.16]))
    np.testing.assert_allclose(density, expected, rtol=1e-6, atol=1e-12)
    assert "39/86/99 % of the prior's mass" in display.ax_.get_title()


def test_clouds_without_a_prior_of_their_own_keep_the_standard_normal():
    display = PosteriorCloudsDisplay(np.zeros((3, 2)), np.ones((3, 2))).plot(extent=3.0)
    gx, gy = np.meshgrid(display.prior_grid_, display.prior_grid_)
    np.testing.assert_allclose(
        display.prior_density_, np.exp(-0.5 * (gx**2 + gy**2)) / (2 * math.pi), rtol=1e-12
    )
    assert "prior radius 1, 2, 3" in display.ax_.get_title()


@pytest.mark.parametrize("dims", [(0, 1), (1, 0)])
def test_plane_prior_follows_the_order_of_the_dimensions(dims):
    means = torch.tensor([[1.0, -3.0]])
    plane = plane_prior(MixturePrior(means, torch.zeros(1, 2), "one"), dims)
    np.testing.assert_allclose(plane.means[0], means[0].numpy()[list(dims)])
