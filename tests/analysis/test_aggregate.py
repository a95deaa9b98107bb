import numpy as np
import pytest

from vae_atlas.analysis.aggregate import (
    HOLE_RATIO,
    aggregate_codes,
    aggregate_density,
    hole_fraction,
)


def _plane_hole_mass(density):
    """Prior mass (within the window) where the plane's holes mask is set."""
    cell = (density.axis[1] - density.axis[0]) ** 2
    return float(np.sum(density.p[density.holes]) * cell)


def test_posteriors_equal_to_the_prior_leave_no_holes():
    mu = np.zeros((50, 2))
    density = aggregate_density(mu, np.zeros((50, 2)), size=61)
    np.testing.assert_allclose(density.q, density.p, rtol=1e-10)
    assert not density.holes.any()


def test_data_far_from_the_prior_leaves_the_prior_empty():
    mu = np.full((50, 2), 20.0)
    density = aggregate_density(mu, np.zeros((50, 2)) - 4)
    assert _plane_hole_mass(density) > 0.95  # nearly all the prior's mass in the window
    assert density.outside == 1.0


def test_half_the_plane_unused_is_about_half_the_prior():
    # posteriors spread over x > 0 only: the prior half x < 0 is a hole
    rng = np.random.default_rng(0)
    mu = np.abs(rng.standard_normal((2000, 2))) * np.array([1.0, 0.0]) + np.array([0.0, 0.0])
    mu[:, 1] = rng.standard_normal(2000)
    density = aggregate_density(mu, np.full((2000, 2), np.log(0.05)), size=101)
    assert 0.35 < _plane_hole_mass(density) < 0.6
    assert HOLE_RATIO == 0.1


def test_plain_autoencoder_uses_a_kernel_density_and_picks_dims():
    rng = np.random.default_rng(1)
    mu = rng.standard_normal((300, 4))
    density = aggregate_density(mu, None, dims=(1, 3))
    assert density.dims == (1, 3)
    assert "kernel" in density.method
    assert density.q.sum() * (density.axis[1] - density.axis[0]) ** 2 == pytest.approx(1, abs=0.05)


def test_codes_drawn_from_the_prior_leave_almost_no_holes():
    codes = np.random.default_rng(2).standard_normal((3000, 2))
    assert hole_fraction(codes) < 0.01
    assert hole_fraction(np.random.default_rng(3).standard_normal((3000, 8))) < 0.01


def test_codes_in_a_small_ball_or_far_away_leave_the_prior_empty():
    rng = np.random.default_rng(4)
    assert hole_fraction(rng.standard_normal((3000, 2)) * 0.1) > 0.85
    assert hole_fraction(rng.standard_normal((3000, 2)) + 20.0) == 1.0
    assert hole_fraction(rng.standard_normal((3000, 8)) + 20.0) == 1.0


def test_codes_spread_ten_times_wider_than_the_prior_leave_its_centre_empty():
    # q = N(0, 100 I): q/p < 0.1 where |z|² < 2 ln(10) / (1 − 1/100) = 4.65, prior mass
    # 1 − exp(−4.65 / 2) = 0.90 — scale alone must not make sparse codes look like coverage
    codes = np.random.default_rng(5).standard_normal((4000, 2)) * 10.0
    assert 0.85 < hole_fraction(codes) < 0.95


def test_half_the_space_unused_is_about_half_the_prior():
    codes = np.random.default_rng(6).standard_normal((4000, 2))
    codes[:, 0] = np.abs(codes[:, 0])  # q = 2p on x > 0 and 0 on x < 0: holes hold exactly 1/2
    assert 0.38 < hole_fraction(codes) < 0.55


def test_posterior_draws_fill_the_prior_where_the_means_alone_would_not():
    mu = np.zeros((2000, 3))  # every posterior equal to the prior
    assert hole_fraction(aggregate_codes(mu, np.zeros((2000, 3)))) < 0.01
    assert hole_fraction(aggregate_codes(mu, None) + 1e-3) > 0.9  # the means: one point
