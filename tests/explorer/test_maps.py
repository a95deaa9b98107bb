"""Maps of the latent space aligned onto an earlier map of the same points (explore --follow):
the aligned positions against the earlier ones, and the codes behind them against the truth."""

from __future__ import annotations

import numpy as np
import pytest

from vae_atlas.explorer.maps import LatentMap, align_map, lift_linear


def turn(theta: float) -> np.ndarray:
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


MIRROR = np.array([[1.0, 0.0], [0.0, -1.0]])


# a turn alone (not symmetric: R ≠ Rᵀ) and a turn with a mirror (a 2-D reflection, symmetric)
@pytest.mark.parametrize("move", [turn(0.7), turn(0.7) @ MIRROR], ids=["turned", "mirrored"])
def test_a_turned_scaled_plane_is_put_back_and_decodes_its_own_codes(move) -> None:
    rng = np.random.default_rng(0)
    old_z = rng.standard_normal((60, 2)) * [3.0, 1.0]
    old = LatentMap("latent", old_z.copy(), np.eye(2), np.zeros(2))
    # the next epoch's codes: the same picture turned (and mirrored), scaled by 0.4 and shifted
    new_z = 0.4 * old_z @ move + [5.0, -2.0]
    new = LatentMap("latent", new_z.copy(), np.eye(2), np.zeros(2))
    aligned = align_map(new, old)
    np.testing.assert_allclose(aligned.coords, old.coords, atol=1e-9)
    # the map moved, not the codes: projecting the true new codes gives the aligned positions,
    # and the position of point i lifts back to point i's new code
    np.testing.assert_allclose((new_z - aligned.center) @ aligned.axes.T, old.coords, atol=1e-9)
    for i in (0, 17, 59):
        z = lift_linear(aligned, old.coords[i], anchor=new_z.mean(0))
        np.testing.assert_allclose(z, new_z[i], atol=1e-9)
    assert abs(np.linalg.det(aligned.frame)) == pytest.approx(1 / 0.4**2)


def test_a_plane_in_a_3d_space_is_aligned_within_its_plane() -> None:
    rng = np.random.default_rng(1)
    a0 = np.linalg.qr(rng.standard_normal((3, 2)))[0].T  # (2, 3) orthonormal rows
    center = np.array([0.5, -1.0, 2.0])
    z = rng.standard_normal((40, 3))
    old = LatentMap("pca", (z - center) @ a0.T, a0, center)
    # the next epoch: codes spread 3× as far, its own plane's axes turned in it
    codes = center + 3.0 * (z - center)
    a1 = turn(-1.9) @ a0
    new = LatentMap("pca", (codes - center) @ a1.T, a1, center)
    aligned = align_map(new, old)
    np.testing.assert_allclose(aligned.coords, old.coords, atol=1e-9)
    np.testing.assert_allclose((codes - aligned.center) @ aligned.axes.T, old.coords, atol=1e-9)
    # a code on the plane through an anchor comes back from its own map position
    anchor = codes[3]
    on_plane = anchor + np.array([0.3, -1.2]) @ a1
    position = aligned.axes @ (on_plane - aligned.center)
    np.testing.assert_allclose(lift_linear(aligned, position, anchor), on_plane, atol=1e-9)


def test_a_map_with_its_points_in_one_place_is_left_as_it_is() -> None:
    old = LatentMap(
        "latent", np.random.default_rng(2).standard_normal((5, 2)), np.eye(2), np.zeros(2)
    )
    collapsed = LatentMap("latent", np.ones((5, 2)), np.eye(2), np.zeros(2))
    assert align_map(collapsed, old) is collapsed
    assert align_map(old, collapsed) is old
