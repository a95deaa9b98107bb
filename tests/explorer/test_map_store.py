"""MapStore: the maps of one run's points, checked against hand-built geometry."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vae_atlas.explorer.map_store import MapStore


def points_in_a_3d_plane(n: int = 60) -> np.ndarray:
    """(n, 5) points on a 3-D affine subspace of R^5 off the origin, spread unevenly."""
    rng = np.random.default_rng(0)
    axes, _ = np.linalg.qr(rng.normal(size=(5, 3)))  # (5, 3) orthonormal columns
    coords = rng.normal(size=(n, 3)) * np.array([3.0, 2.0, 1.0])
    return coords @ axes.T + np.array([5.0, -4.0, 3.0, 2.0, -1.0])


def test_orbit_coordinates_rebuild_points_that_lie_in_three_dimensions() -> None:
    mu = points_in_a_3d_plane()
    basis, center, coords3 = MapStore(mu).orbit()
    # q = B (z − c) keeps everything of points that span only three directions: z = c + Bᵀ q
    np.testing.assert_allclose(center + coords3 @ basis, mu, atol=1e-9)


def test_dims_maps_are_kept_per_pair_of_dimensions() -> None:
    mu = np.arange(40.0).reshape(8, 5) ** 1.5
    store = MapStore(mu)
    first, second = store.get("dims", (0, 1)), store.get("dims", (3, 2))
    # the chosen columns, shifted by a centre that moves them as one
    np.testing.assert_allclose(np.diff(first.coords, axis=0), np.diff(mu[:, [0, 1]], axis=0), 1e-5)
    np.testing.assert_allclose(np.diff(second.coords, axis=0), np.diff(mu[:, [3, 2]], axis=0), 1e-5)
    assert store.get("dims", (0, 1)) is first
    assert set(store.shown()) == {("dims", (0, 1)), ("dims", (3, 2))}


def test_a_map_is_turned_onto_the_one_shown_before() -> None:
    mu = points_in_a_3d_plane()
    earlier = MapStore(mu).get("pca")
    quarter = np.array([[0.0, -1.0], [1.0, 0.0]])  # the same map turned by 90°
    turned = replace(earlier, coords=(earlier.coords @ quarter.T).astype(np.float32))
    again = MapStore(mu, aligned_to={("pca", None): turned}).get("pca")
    np.testing.assert_allclose(again.coords, turned.coords, atol=1e-4)


def test_a_two_dimensional_space_offers_only_its_own_plane() -> None:
    store = MapStore(np.zeros((4, 2)))
    assert store.projections == ["latent"] and store.default_projection == "latent"
    with pytest.raises(ValueError, match="'pca' is not available"):
        store.get("pca")
    with pytest.raises(ValueError, match="latent_dim >= 3"):
        store.orbit_view((0.0, 0.0))
