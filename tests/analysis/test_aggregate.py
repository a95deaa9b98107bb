import numpy as np
import pytest

from vae_atlas.analysis.aggregate import HOLE_RATIO, aggregate_density


def test_posteriors_equal_to_the_prior_leave_no_holes():
    mu = np.zeros((50, 2))
    density = aggregate_density(mu, np.zeros((50, 2)), size=61)
    np.testing.assert_allclose(density.q, density.p, rtol=1e-10)
    assert density.hole_mass == 0.0
    assert not density.holes.any()


def test_data_far_from_the_prior_leaves_the_prior_empty():
    mu = np.full((50, 2), 20.0)
    density = aggregate_density(mu, np.zeros((50, 2)) - 4)
    assert density.hole_mass > 0.95  # nearly all the prior's mass in the window
    assert density.outside == 1.0


def test_half_the_plane_unused_is_about_half_the_prior():
    # posteriors spread over x > 0 only: the prior half x < 0 is a hole
    rng = np.random.default_rng(0)
    mu = np.abs(rng.standard_normal((2000, 2))) * np.array([1.0, 0.0]) + np.array([0.0, 0.0])
    mu[:, 1] = rng.standard_normal(2000)
    density = aggregate_density(mu, np.full((2000, 2), np.log(0.05)), size=101)
    assert 0.35 < density.hole_mass < 0.6
    assert HOLE_RATIO == 0.1


def test_plain_autoencoder_uses_a_kernel_density_and_picks_dims():
    rng = np.random.default_rng(1)
    mu = rng.standard_normal((300, 4))
    density = aggregate_density(mu, None, dims=(1, 3))
    assert density.dims == (1, 3)
    assert "kernel" in density.method
    assert density.q.sum() * (density.axis[1] - density.axis[0]) ** 2 == pytest.approx(1, abs=0.05)
