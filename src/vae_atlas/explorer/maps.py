"""Two-dimensional maps of a latent space and the way back from a map position to a code.

Linear maps (the latent plane itself when D = 2, two chosen dimensions, the PCA plane of
Pearson 1901) are ``p = A (z − c)`` with orthonormal rows in ``A`` (2, D), so a map position lifts
back to a code exactly on the plane through an anchor ``a``:
``z = a + Aᵀ (p − A (a − c))`` — the page does this itself. UMAP (McInnes et al. 2018) and
t-SNE (van der Maaten & Hinton 2008), both from :mod:`vae_atlas.analysis.projection` and cached
on disk per run, are not invertible; new
codes are placed on them by inverse-distance weighting of their k nearest data points in latent
space, and map positions lift to the same weighting of the nearest points on the map. Both are
approximations and the page says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_atlas.analysis.projection import project_latents

LINEAR = ("latent", "pca", "dims")
NONLINEAR = ("umap", "tsne")
_K_PLACE = 8


@dataclass(frozen=True)
class LatentMap:
    """Map coordinates ``coords`` (N, 2) of the data points and, if linear, ``axes``/``center``."""

    projection: str
    coords: np.ndarray
    axes: np.ndarray | None = None
    center: np.ndarray | None = None
    dims: tuple[int, int] | None = None
    seconds: float = 0.0

    @property
    def linear(self) -> bool:
        return self.axes is not None


def compute_map(
    projection: str,
    mu: np.ndarray,
    dims: tuple[int, int] | None = None,
    *,
    cache_dir: Path | None = None,
    cache_key: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> LatentMap:
    """The map ``projection`` of latent means ``mu`` (N, D); ``dims`` for ``projection='dims'``.

    Projections come from :func:`vae_atlas.analysis.projection.project_latents`; t-SNE and UMAP
    are stored in ``cache_dir`` under ``cache_key`` when both are given; ``progress`` hears
    how far a t-SNE has got (fraction 0 to 1).

    Raises
    ------
    ValueError
        The projection is unknown or does not apply to this latent size (message says why).
    """
    n, d = mu.shape
    if projection == "latent":
        if d > 2:
            raise ValueError(f"'latent' shows the plane itself and needs D <= 2, not D={d}")
        dims = None
    elif projection == "dims":
        if dims is None or len(set(dims)) != 2 or not all(0 <= i < d for i in dims):
            raise ValueError(f"dims={dims} must be two different dimensions in 0..{d - 1}")
    elif projection in ("pca", *NONLINEAR):
        if d < 2 or (projection in NONLINEAR and n < 5):
            raise ValueError(f"{projection} needs D >= 2 and 5 points (D={d}, {n} points)")
    else:
        raise ValueError(f"unknown projection {projection!r}")
    method = "identity" if projection in ("latent", "dims") else projection
    proj = project_latents(
        mu,
        method,
        dims=dims or (0, 1),
        cache_dir=cache_dir,
        cache_key=cache_key,
        progress=progress,
    )
    coords = np.asarray(proj.coords, dtype=np.float32)
    return LatentMap(projection, coords, proj.components, proj.center, dims, proj.seconds)


def idw(values: np.ndarray, dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Inverse-distance-weighted mean of ``values[idx]`` per row; exact hits take that value."""
    w = 1.0 / np.maximum(dist, 1e-9) ** 2  # (M, k)
    w /= w.sum(1, keepdims=True)
    return np.einsum("mk,mkc->mc", w, values[idx])  # (M, C)


def place(lmap: LatentMap, z: np.ndarray, neighbours) -> np.ndarray:
    """Map positions (M, 2) of codes z (M, D); ``neighbours`` is a fitted NearestNeighbors on μ."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    if lmap.linear:
        return (z - lmap.center) @ lmap.axes.T
    k = min(_K_PLACE, len(lmap.coords))
    dist, idx = neighbours.kneighbors(z, n_neighbors=k)
    return idw(lmap.coords.astype(np.float64), dist, idx)


def lift(lmap: LatentMap, xy: np.ndarray, mu: np.ndarray, tree) -> np.ndarray:
    """A code for a position on a non-linear map: IDW of the latents of its nearest map points.

    ``tree`` is a fitted NearestNeighbors on ``lmap.coords``; ``mu`` (N, D) the data latents.
    """
    k = min(_K_PLACE, len(lmap.coords))
    dist, idx = tree.kneighbors(np.atleast_2d(xy), n_neighbors=k)
    return idw(mu, dist, idx)
