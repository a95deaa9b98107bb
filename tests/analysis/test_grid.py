import numpy as np
import pytest
from scipy.stats import norm

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.analysis.grid import latent_grid, prior_quantiles


def test_prior_quantiles_are_inverse_normal_cdf_of_cell_centres():
    q = prior_quantiles(4)
    np.testing.assert_allclose(q, norm.ppf([0.125, 0.375, 0.625, 0.875]))
    np.testing.assert_allclose(q, -q[::-1])  # symmetric around the prior's mean


def test_grid_codes_by_hand_and_linear_decoder():
    grid = latent_grid(3, 2)
    u = norm.ppf([1 / 6, 0.5, 5 / 6])
    assert grid.z.shape == (9, 2)
    # top row first: v descending; columns ascending in u
    np.testing.assert_allclose(grid.z[0], [u[0], u[2]])
    np.testing.assert_allclose(grid.z[4], [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(grid.z[8], [u[2], u[0]])
    model = make_model(2)
    images = decode_latents(model, grid.z)
    w, b = model.w.detach().numpy(), model.b.detach().numpy()
    np.testing.assert_allclose(images.reshape(9, -1), grid.z @ w.T + b, rtol=1e-5, atol=1e-5)


def test_grid_in_chosen_dims_holds_the_base_point():
    base = np.array([0.5, -1.0, 2.0, 3.0])
    grid = latent_grid(4, 4, dims=(1, 3), base=base)
    np.testing.assert_allclose(grid.z[:, 0], 0.5)
    np.testing.assert_allclose(grid.z[:, 2], 2.0)
    assert set(np.round(grid.z[:, 1], 9)) == set(np.round(prior_quantiles(4), 9))
    assert grid.axis_labels == ("z2", "z4")


def test_grid_on_an_oblique_plane_has_plane_coordinates_u_v():
    rng = np.random.default_rng(1)
    basis = rng.standard_normal((2, 5))
    base = rng.standard_normal(5)
    grid = latent_grid(5, 5, basis=basis, base=base)
    np.testing.assert_allclose(grid.z @ grid.basis.T, grid.plane, atol=1e-10)
    # the off-plane part of every code is the base's off-plane part
    off = grid.z - grid.plane @ grid.basis
    np.testing.assert_allclose(
        off, np.broadcast_to(base - (grid.basis @ base) @ grid.basis, off.shape), atol=1e-10
    )


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError):
        latent_grid(3, 1)
    with pytest.raises(ValueError):
        latent_grid(3, 3, dims=(1, 1))
    with pytest.raises(ValueError):
        latent_grid(3, 3, basis=np.ones((2, 3)))
