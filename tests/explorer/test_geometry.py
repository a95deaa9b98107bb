"""Closed forms: projected σ-ellipses and lifting map positions."""

from __future__ import annotations

import numpy as np
import pytest

from vae_atlas.explorer.geometry import projected_ellipse
from vae_atlas.explorer.maps import compute_map, place


def test_projected_ellipse_closed_forms() -> None:
    sigma = np.array([0.5, 0.2, 3.0])
    cx, cy, rx, ry, angle = projected_ellipse(np.array([1.0, 2.0]), sigma, np.eye(2, 3))
    assert (cx, cy, rx, ry) == pytest.approx((1.0, 2.0, 0.5, 0.2))
    assert abs(np.sin(angle)) < 1e-9  # major axis along x
    # a 45° rotation of an isotropic posterior stays a circle of the same radius
    rot = np.array([[1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]]) / np.sqrt(2)
    _, _, rx, ry, _ = projected_ellipse(np.zeros(2), np.array([0.3, 0.3, 9.0]), rot)
    assert (rx, ry) == pytest.approx((0.3, 0.3))
    # dims (2, 0): the major axis is the y axis on screen
    axes = np.zeros((2, 3))
    axes[0, 2] = axes[1, 0] = 1.0
    _, _, rx, ry, angle = projected_ellipse(np.zeros(2), np.array([4.0, 1.0, 2.0]), axes)
    assert (rx, ry) == pytest.approx((4.0, 2.0)) and abs(np.cos(angle)) < 1e-9


def test_lifting_inverts_projection_on_the_anchor_plane() -> None:
    """The page's lift z = a + Aᵀ(p − A(a − c)) projects back to p and keeps a's offset."""
    mu = np.random.default_rng(2).normal(size=(200, 6)) * np.arange(1, 7)
    lmap = compute_map("pca", mu)
    A, c = lmap.axes, lmap.center
    anchor = mu[17]
    p = np.array([0.7, -1.3])
    z = anchor + A.T @ (p - A @ (anchor - c))
    np.testing.assert_allclose(place(lmap, z[None], None)[0], p, atol=1e-9)
    residual = np.eye(6) - A.T @ A  # the part of the code the plane does not show
    np.testing.assert_allclose(residual @ z, residual @ anchor, atol=1e-9)


def test_maps_refuse_what_does_not_apply() -> None:
    mu = np.zeros((10, 3))
    with pytest.raises(ValueError, match="D <= 2"):
        compute_map("latent", mu)
    with pytest.raises(ValueError, match="dims"):
        compute_map("dims", mu, (1, 1))
    with pytest.raises(ValueError, match="unknown"):
        compute_map("isomap", mu)
