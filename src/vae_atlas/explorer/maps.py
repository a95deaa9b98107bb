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

While a run trains (``explore --follow``) each epoch's map is turned onto the one it replaces by
a Procrustes fit of the same points (:func:`align_map`), so the picture does not spin or flip
between epochs; a linear map stays linear, ``p = A (z − c)`` with ``A = F A₀``: ``F`` (2, 2) the
fitted turn and scale (``frame``), ``A₀`` the projection's own orthonormal axes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vae_atlas.analysis.alignment import fit_similarity
from vae_atlas.analysis.projection import project_latents

LINEAR = ("latent", "pca", "dims")
NONLINEAR = ("umap", "tsne")
_K_PLACE = 8


@dataclass(frozen=True)
class LatentMap:
    """Map coordinates ``coords`` (N, 2) of the data points and, if linear, ``axes``/``center``;
    ``frame`` (2, 2) the turn and scale that aligned it to an earlier map (None: not aligned)."""

    projection: str
    coords: np.ndarray
    axes: np.ndarray | None = None
    center: np.ndarray | None = None
    dims: tuple[int, int] | None = None
    seconds: float = 0.0
    frame: np.ndarray | None = None

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


def align_map(lmap: LatentMap, reference: LatentMap) -> LatentMap:
    """``lmap`` moved onto ``reference``, an earlier map of the same points, by the shift, turn,
    mirror and scale that bring its coordinates closest (:func:`fit_similarity`); unchanged
    when either map has its points all in one place, they differ in number, or the map is a
    1-D space's line (only its sign could flip, and it stays a line on the map's x axis)."""
    if lmap.coords.shape != reference.coords.shape or (lmap.linear and lmap.axes.shape[1] < 2):
        return lmap
    fit = fit_similarity(lmap.coords, reference.coords)
    if not (np.isfinite(fit.scale) and fit.scale > 0):
        return lmap
    coords = fit.apply(lmap.coords).astype(lmap.coords.dtype)  # float32 as the map travels
    frame = fit.scale * fit.rotation.T  # (2, 2): p' = F p + t for column vectors
    if not lmap.linear:
        return replace(lmap, coords=coords, frame=frame)
    axes = frame @ lmap.axes  # (2, D)
    # the centre c' with A (z − c') = A (z − c) + t, moved within the plane: c' = c − A⁺ t
    center = lmap.center - np.linalg.solve(axes @ axes.T, fit.shift) @ axes
    return replace(lmap, coords=coords, axes=axes, center=center, frame=frame)


def lift_linear(lmap: LatentMap, xy: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The code (D,) that the linear map places at ``xy`` (2,), on the plane through ``anchor``
    (D,) spanned by the map's axes: z = a + A⁺ (p − A (a − c)), A⁺ = Aᵀ (A Aᵀ)⁺ — for
    orthonormal axes simply Aᵀ; a 1-D space's second axis is zero and the pseudo-inverse drops it.
    """
    a = np.asarray(lmap.axes, np.float64)  # (2, D)
    anchor = np.asarray(anchor, np.float64)
    offset = np.asarray(xy, np.float64) - a @ (anchor - lmap.center)
    return anchor + a.T @ (np.linalg.pinv(a @ a.T) @ offset)


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
