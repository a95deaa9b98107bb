import numpy as np
import pytest

from vae_atlas.analysis.alignment import align_snapshots, fit_similarity, procrustes_align


def _rotation(theta: float) -> np.ndarray:
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def test_a_rotated_scaled_shifted_copy_aligns_exactly():
    rng = np.random.default_rng(0)
    target = rng.standard_normal((50, 2))
    source = 0.3 * target @ _rotation(1.1) + np.array([4.0, -2.0])
    aligned, scale, residual = procrustes_align(source, target)
    np.testing.assert_allclose(aligned, target, atol=1e-10)
    assert scale == pytest.approx(1 / 0.3)
    assert residual == pytest.approx(0.0, abs=1e-18)


def test_without_scale_only_rigid_motion_is_removed():
    rng = np.random.default_rng(1)
    target = rng.standard_normal((30, 3))
    aligned, scale, residual = procrustes_align(2 * target, target, scale=False)
    assert scale == 1.0 and residual > 0.1


def test_snapshots_in_a_high_dim_space_are_shown_in_the_final_pca_plane():
    rng = np.random.default_rng(2)
    final = rng.standard_normal((40, 5)) * np.array([3, 2, 0.1, 0.1, 0.1])
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    early = final @ q * 0.5
    result = align_snapshots([0, 5], [early, final])
    assert result.coords.shape == (2, 40, 2)
    np.testing.assert_allclose(result.coords[0], result.coords[1], atol=1e-9)
    assert result.disparity[0] == pytest.approx(0.0, abs=1e-18)
    assert result.axis_labels == ("final PC 1", "final PC 2")


def test_a_collapsed_snapshot_maps_to_the_target_centre():
    target = np.array([[0.0, 0.0], [2.0, 2.0]])
    aligned, scale, _ = procrustes_align(np.ones((2, 2)), target)
    np.testing.assert_allclose(aligned, [[1.0, 1.0], [1.0, 1.0]])
    assert scale == 0.0


def test_a_known_turn_mirror_scale_and_shift_are_recovered_and_undone():
    rng = np.random.default_rng(3)
    target = rng.standard_normal((25, 2))
    mirror = np.array([[1.0, 0.0], [0.0, -1.0]])
    turn = mirror @ _rotation(2.3)  # det −1: a reflection as well as a rotation
    source = 2.5 * target @ turn + np.array([-7.0, 3.0])
    fit = fit_similarity(source, target)
    np.testing.assert_allclose(fit.apply(source), target, atol=1e-9)
    assert fit.scale == pytest.approx(1 / 2.5)
    np.testing.assert_allclose(fit.rotation, turn.T, atol=1e-12)  # the inverse turn
    assert np.linalg.det(fit.rotation) == pytest.approx(-1.0)
