"""Two-dimensional maps of a latent space and the way back from a map position to a code.

Linear maps (the latent plane itself when D = 2, two chosen dimensions, the PCA plane of
Pearson 1901) are ``p = A (z − c)`` with orthonormal rows in ``A`` (2, D), so a map position lifts
back to a code exactly on the plane through an anchor ``a``:
``z = a + Aᵀ (p − A (a − c))`` — the page does this itself. UMAP (McInnes et al. 2018) and
t-SNE (van der Maaten & Hinton 2008, via openTSNE, Poličar et al. 2019) are not invertible; new
codes are placed on them by inverse-distance weighting of their k nearest data points in latent
space, and map positions lift to the same weighting of the nearest points on the map. Both are
approximations and the page says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

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


def linear_map(mu: np.ndarray, axes: np.ndarray, center: np.ndarray, **kw: object) -> LatentMap:
    coords = (mu - center) @ axes.T  # (N, 2)
    return LatentMap(coords=coords.astype(np.float32), axes=axes, center=center, **kw)  # type: ignore[arg-type]


def compute_map(projection: str, mu: np.ndarray, dims: tuple[int, int] | None = None) -> LatentMap:
    """The map ``projection`` of latent means ``mu`` (N, D); ``dims`` for ``projection='dims'``.

    Raises
    ------
    ValueError
        The projection is unknown or does not apply to this latent size (message says why).
    """
    n, d = mu.shape
    start = time.perf_counter()
    zero = np.zeros(d)
    if projection == "latent":
        if d > 2:
            raise ValueError(
                f"'latent' shows the plane itself and needs D <= 2, this run has D={d}"
            )
        axes = np.eye(2, d)  # D = 1: the second row is zero and y is always 0
        return linear_map(mu, axes, zero, projection="latent")
    if projection == "dims":
        if dims is None or len(set(dims)) != 2 or not all(0 <= i < d for i in dims):
            raise ValueError(f"dims={dims} must be two different dimensions in 0..{d - 1}")
        axes = np.zeros((2, d))
        axes[0, dims[0]] = axes[1, dims[1]] = 1.0
        return linear_map(mu, axes, zero, projection="dims", dims=dims)
    if projection == "pca":
        return _pca(mu, start)
    if projection in NONLINEAR:
        if n < 5:
            raise ValueError(f"{projection} needs at least 5 points, this run shows {n}")
        coords = _umap(mu) if projection == "umap" else _tsne(mu)
        return LatentMap(projection, coords.astype(np.float32), seconds=time.perf_counter() - start)
    raise ValueError(f"unknown projection {projection!r}")


def _pca(mu: np.ndarray, start: float) -> LatentMap:
    from sklearn.decomposition import PCA

    d = mu.shape[1]
    if d < 2:
        raise ValueError("PCA needs at least 2 latent dimensions")
    pca = PCA(n_components=2, svd_solver="full").fit(mu)
    # sign convention: the largest loading of each component is positive, so maps are stable
    comps = pca.components_  # (2, D)
    axes = comps * np.sign(comps[np.arange(2), np.abs(comps).argmax(1)])[:, None]
    return linear_map(mu, axes, pca.mean_, projection="pca", seconds=time.perf_counter() - start)


def _umap(mu: np.ndarray) -> np.ndarray:
    try:
        import umap
    except ImportError:
        raise ValueError("the UMAP view needs umap-learn: pip install umap-learn") from None
    reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(mu) - 1), random_state=0)
    return np.asarray(reducer.fit_transform(mu))


def _tsne(mu: np.ndarray) -> np.ndarray:
    try:
        from openTSNE import TSNE
    except ImportError:
        raise ValueError("the t-SNE view needs openTSNE: pip install openTSNE") from None
    perplexity = float(min(30.0, (len(mu) - 1) / 3.0))
    return np.asarray(TSNE(perplexity=perplexity, random_state=0, n_jobs=1).fit(mu))


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
