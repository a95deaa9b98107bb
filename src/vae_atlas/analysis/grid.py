"""The decoded manifold: K×K codes on a latent plane, spaced by the prior's quantiles
(Kingma & Welling 2014, fig. 4).

Grid coordinates are u_i = Φ⁻¹((i + ½) / K), the inverse normal CDF at evenly spaced
probabilities, so each cell holds the same prior mass. For more than two dimensions the plane is
spanned by two latent dimensions or by two orthonormal directions (e.g. the top principal
directions of the means); the other coordinates are held at a base point. Because the prior is
isotropic, its projection on any unit direction is N(0, 1), so the same quantiles apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class LatentGrid:
    """Codes ``z`` (K*K, D) in row-major order, top row first (largest ``v``).

    ``u`` (K,) and ``v`` (K,) are the plane coordinates of the columns and rows (v descending),
    ``basis`` (2, D) the orthonormal plane directions and ``base`` (D,) the held point.
    """

    z: np.ndarray
    u: np.ndarray
    v: np.ndarray
    basis: np.ndarray
    base: np.ndarray
    axis_labels: tuple[str, str]

    @property
    def size(self) -> int:
        return int(self.u.shape[0])

    @property
    def plane(self) -> np.ndarray:
        """Plane coordinates (K*K, 2) of every code, in the order of ``z``."""
        uu, vv = np.meshgrid(self.u, self.v)
        return np.stack([uu.ravel(), vv.ravel()], axis=1)


def prior_quantiles(k: int, *, edge: float = 0.5) -> np.ndarray:
    """Φ⁻¹((i + edge) / (K - 1 + 2·edge)) for i = 0..K-1, ascending (K,).

    ``edge=0.5`` gives the cell centres of K equal-mass cells.
    """
    if k < 1:
        raise ValueError(f"grid size k={k} must be >= 1")
    probs = (np.arange(k) + edge) / (k - 1 + 2 * edge)
    return norm.ppf(probs)


def latent_grid(
    k: int,
    latent_dim: int,
    *,
    dims: tuple[int, int] = (0, 1),
    basis: np.ndarray | None = None,
    base: np.ndarray | None = None,
    axis_labels: tuple[str, str] | None = None,
    values: np.ndarray | None = None,
) -> LatentGrid:
    """A K×K grid of codes spaced by prior quantiles.

    Parameters
    ----------
    k : cells per side.
    latent_dim : D.
    dims : the two latent dimensions spanning the plane (ignored when ``basis`` is given).
    basis : (2, D) plane directions; orthonormalised here.
    base : (D,) the point the other coordinates are held at (default: the origin). Its component
        in the plane is replaced by the grid coordinates.
    values : (K,) ascending plane coordinates to use on both axes instead of the prior
        quantiles (e.g. an even spacing over the range of the data, for overlays).
    """
    if latent_dim < 2:
        raise ValueError("a latent grid needs at least two latent dimensions")
    if basis is None:
        if dims[0] == dims[1] or not all(0 <= d < latent_dim for d in dims):
            raise ValueError(f"dims={dims} must be two different dimensions < {latent_dim}")
        basis = np.zeros((2, latent_dim))
        basis[0, dims[0]] = basis[1, dims[1]] = 1.0
        axis_labels = axis_labels or (f"z{dims[0] + 1}", f"z{dims[1] + 1}")
    basis = _orthonormal(np.asarray(basis, dtype=np.float64))
    base = np.zeros(latent_dim) if base is None else np.asarray(base, dtype=np.float64)
    off_plane = base - (basis @ base) @ basis  # (D,) the base with its in-plane part removed
    u = prior_quantiles(k) if values is None else np.sort(np.asarray(values, dtype=np.float64))
    v = u[::-1].copy()
    uu, vv = np.meshgrid(u, v)  # (K, K)
    z = off_plane + uu.reshape(-1, 1) * basis[0] + vv.reshape(-1, 1) * basis[1]  # (K*K, D)
    return LatentGrid(z, u, v, basis, base, axis_labels or ("direction 1", "direction 2"))


def _orthonormal(basis: np.ndarray) -> np.ndarray:
    if basis.ndim != 2 or basis.shape[0] != 2:
        raise ValueError(f"basis must have shape (2, D), got {basis.shape}")
    q, r = np.linalg.qr(basis.T)  # (D, 2)
    if np.min(np.abs(np.diag(r))) < 1e-9:
        raise ValueError("the two basis directions are parallel")
    return (q * np.sign(np.diag(r))).T
