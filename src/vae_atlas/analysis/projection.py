"""Two-dimensional views of a latent space: PCA, t-SNE (van der Maaten & Hinton 2008) and UMAP
(McInnes et al. 2018), with an on-disk cache.

A 2-D latent space is shown as it is (``identity``); anything larger is projected. PCA is fitted
once and can place new points (grid planes, uploads); t-SNE and UMAP are slow on 10,000 points
(~40 s each on two cores), so :func:`project_latents` can store the result in a cache folder
(see :mod:`vae_atlas.analysis.projection_cache`, keyed by
:func:`~vae_atlas.analysis.projection_cache.projection_key`) and reuse it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_atlas.analysis.projection_cache import cache_path, read_coords, write_coords

METHODS = ("identity", "pca", "tsne", "umap")
_NAMES = {"identity": "z", "pca": "PC", "tsne": "t-SNE", "umap": "UMAP"}
# openTSNE's defaults, named so progress can be counted against them
_TSNE_EXAGGERATION_ITER = 250
_TSNE_ITER = 500


@dataclass(frozen=True)
class Projection:
    """2-D coordinates (N, 2) of N latent means and how they were made.

    ``components`` (2, D) and ``center`` (D,) are set for linear methods (identity, PCA) so new
    codes can be placed with :meth:`transform`; ``explained`` holds PCA's explained-variance
    ratios (2,). ``seconds`` is the time it took to compute (0 when read from the cache).
    """

    method: str
    coords: np.ndarray
    axis_labels: tuple[str, str]
    components: np.ndarray | None = None
    center: np.ndarray | None = None
    explained: np.ndarray | None = None
    seconds: float = 0.0
    cached: bool = False

    @property
    def linear(self) -> bool:
        return self.components is not None

    def transform(self, mu: np.ndarray) -> np.ndarray:
        """Place new codes (M, D) in this projection's plane (M, 2); linear methods only."""
        if self.components is None or self.center is None:
            raise ValueError(f"a {self.method} projection cannot place new points")
        return (np.asarray(mu, dtype=np.float64) - self.center) @ self.components.T


def project_latents(
    mu: np.ndarray,
    method: str = "pca",
    *,
    dims: tuple[int, int] = (0, 1),
    seed: int = 0,
    cache_dir: str | Path | None = None,
    cache_key: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Projection:
    """Project latent means (N, D) to 2-D.

    Parameters
    ----------
    mu : (N, D) posterior means.
    method : ``identity`` (the two latent ``dims`` themselves), ``pca``, ``tsne`` or ``umap``.
    seed : random state of t-SNE / UMAP.
    cache_dir, cache_key : when both are given, t-SNE and UMAP are stored in ``cache_dir``
        under ``cache_key`` (see :func:`~vae_atlas.analysis.projection_cache.projection_key`)
        and read back on the next call; a damaged entry is computed again with a warning.
    progress : called with the fraction of t-SNE's optimisation done (0 to 1) as it runs
        (every 25 iterations); UMAP reports nothing until it is done.
    """
    if method not in METHODS:
        raise ValueError(f"projection method {method!r} is not one of {', '.join(METHODS)}")
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[0] < 1:
        raise ValueError(f"expected latent means of shape (N, D), got {mu.shape}")
    if method == "identity" or mu.shape[1] == 1:
        return _identity(mu, dims)
    if method == "pca":
        return _pca(mu)
    path = (
        None
        if cache_dir is None or cache_key is None
        else cache_path(cache_dir, cache_key, method, seed)
    )
    coords = None if path is None else read_coords(path, mu.shape[0])
    if coords is not None:
        return Projection(method, coords, _labels(method), seconds=0.0, cached=True)
    start = time.perf_counter()
    coords = _tsne(mu, seed, progress) if method == "tsne" else _umap(mu, seed)
    seconds = time.perf_counter() - start
    if path is not None:
        write_coords(path, coords)
    return Projection(method, coords, _labels(method), seconds=seconds)


def _labels(method: str) -> tuple[str, str]:
    name = _NAMES[method]
    return f"{name} 1", f"{name} 2"


def _identity(mu: np.ndarray, dims: tuple[int, int]) -> Projection:
    d = mu.shape[1]
    dims = (dims[0], dims[1] if d > 1 else dims[0])
    for k in dims:
        if not 0 <= k < d:
            raise ValueError(f"latent dimension {k} does not exist (latent_dim={d})")
    components = np.zeros((2, d))
    components[0, dims[0]] = 1.0
    if d > 1:
        components[1, dims[1]] = 1.0
    center = np.zeros(d)
    labels = (f"z{dims[0] + 1}", f"z{dims[1] + 1}" if d > 1 else "(none)")
    return Projection("identity", mu @ components.T, labels, components=components, center=center)


def _pca(mu: np.ndarray) -> Projection:
    from sklearn.decomposition import PCA

    start = time.perf_counter()
    pca = PCA(n_components=2, svd_solver="full").fit(mu)
    coords = pca.transform(mu)
    ratio = pca.explained_variance_ratio_
    labels = (f"PC 1 ({ratio[0]:.0%} of variance)", f"PC 2 ({ratio[1]:.0%} of variance)")
    return Projection(
        "pca",
        coords,
        labels,
        components=pca.components_.copy(),
        center=pca.mean_.copy(),
        explained=ratio.copy(),
        seconds=time.perf_counter() - start,
    )


def _tsne(mu: np.ndarray, seed: int, progress: Callable[[float], None] | None) -> np.ndarray:
    # openTSNE rather than scikit-learn: on 5,000 MNIST codes it fitted 1.5x faster with the same
    # 5-NN accuracy on the map (benchmarks/tsne_choice.py), and its embeddings can place new points
    from openTSNE import TSNE

    perplexity = float(min(30.0, (mu.shape[0] - 1) / 3.0))  # openTSNE needs 3 p < n - 1
    every, iterations = 25, _TSNE_EXAGGERATION_ITER + _TSNE_ITER
    done = [0]

    def report(*_) -> None:
        done[0] += every
        progress(min(1.0, done[0] / iterations))

    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        initialization="pca",
        random_state=seed,
        early_exaggeration_iter=_TSNE_EXAGGERATION_ITER,
        n_iter=_TSNE_ITER,
        callbacks=None if progress is None else report,
        callbacks_every_iters=every,
    )
    return np.asarray(tsne.fit(mu), dtype=np.float64)


def _umap(mu: np.ndarray, seed: int) -> np.ndarray:
    import umap  # imported only when asked for: importing it (numba) is slow

    n_neighbors = int(min(15, max(2, mu.shape[0] - 1)))
    # a fixed random_state makes UMAP single-threaded anyway; say so to silence its warning
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, random_state=seed, n_jobs=1)
    return np.asarray(reducer.fit_transform(mu), dtype=np.float64)
