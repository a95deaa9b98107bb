"""The 3-D orbit view: a latent space of three dimensions (or the first three principal
components of a larger one, Pearson 1901) seen from any direction, orthographically.

The three-dimensional coordinates are ``q = B (z − c)`` with orthonormal rows in ``B`` (3, D):
the identity and c = 0 for a 3-D latent, the top three principal axes and the data mean
otherwise. The view turns them by ``R = Rx(pitch) · Ry(yaw)`` (yaw about the screen's vertical
axis, then pitch about its horizontal axis) and shows the first two rows, so the screen
position ``p = R[:2] B (z − c)`` is again a linear map with orthonormal rows ``A = R[:2] B``:
everything the flat linear maps do (lifting the pointer through an anchor, σ-ellipses, lasso)
holds in every orientation.
"""

from __future__ import annotations

import numpy as np

from vae_atlas.explorer.maps import LatentMap

PROJECTION = "orbit"


def orbit_basis(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``B`` (3, D) and ``c`` (D,) for latent means ``mu`` (N, D), D ≥ 3.

    A 3-D latent is shown in its own axes (z1, z2, z3 around the prior's centre); a larger one
    by its principal axes, each signed so that its largest loading is positive.
    """
    n, d = mu.shape
    if d < 3:
        raise ValueError(f"the 3-D orbit view needs latent_dim >= 3, not {d}")
    if d == 3:
        return np.eye(3), np.zeros(3)
    center = mu.mean(0)
    _, _, vt = np.linalg.svd(mu - center, full_matrices=False)  # rows: principal axes
    basis = vt[:3].copy()  # (3, D)
    flip = np.sign(basis[np.arange(3), np.abs(basis).argmax(1)])
    return basis * flip[:, None], center


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """``Rx(pitch) · Ry(yaw)`` (3, 3)."""
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    return rx @ ry


def orbit_map(
    coords3: np.ndarray, basis: np.ndarray, center: np.ndarray, angles: tuple[float, float]
) -> LatentMap:
    """The view from ``angles`` (yaw, pitch) of points at ``coords3`` (N, 3) = B (μ − c)."""
    turn = rotation(*angles)[:2]  # (2, 3)
    coords = (coords3 @ turn.T).astype(np.float32)  # (N, 2)
    return LatentMap(PROJECTION, coords, axes=turn @ basis, center=center)
