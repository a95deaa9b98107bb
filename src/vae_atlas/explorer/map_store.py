"""The 2-D maps of one run's points, each computed once and kept (thread-safe).

A map is keyed by (projection, dims). t-SNE and UMAP maps are also kept on disk in the run's
``cache/`` folder, in the cache the report shares (:mod:`vae_atlas.analysis.projection_cache`),
so a map either of them computed is reused by the other. A map computed for new weights of the
same run is turned onto the one shown before (:func:`~vae_atlas.explorer.maps.align_map`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vae_atlas.explorer.maps import NONLINEAR, LatentMap, align_map, compute_map
from vae_atlas.explorer.orbit import orbit_basis, orbit_map

MapKey = tuple[str, tuple[int, int] | None]


class MapStore:
    """The maps of the latent means ``mu`` (N, D) of one run's shown points.

    Parameters
    ----------
    mu : the points' latent means (N, D).
    cache_dir : where t-SNE / UMAP maps are stored between sessions (None: memory only).
    cache_key : the points' key in ``cache_dir``, called when a t-SNE or UMAP map is first needed
        (nothing is stored on disk without one).
    aligned_to : earlier maps of the same points by (projection, dims); a map computed here is
        turned onto its earlier one.
    """

    def __init__(
        self,
        mu: np.ndarray,
        *,
        cache_dir: Path | None = None,
        cache_key: Callable[[], str] | None = None,
        aligned_to: dict[MapKey, LatentMap] | None = None,
    ) -> None:
        self.mu = mu
        self.latent_dim = int(mu.shape[1])
        self.cache_dir = cache_dir
        self._cache_key = cache_key
        self._aligned_to = dict(aligned_to or {})
        self._maps: dict[MapKey, LatentMap] = {}
        self._trees: dict[MapKey, object] = {}
        self._key_locks: dict[MapKey, threading.Lock] = {}
        self._orbit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    @property
    def projections(self) -> list[str]:
        if self.latent_dim <= 2:
            return ["latent"]
        return ["pca", "dims", "umap", "tsne", "orbit"]

    @property
    def default_projection(self) -> str:
        return "latent" if self.latent_dim <= 2 else "pca"

    def shown(self) -> dict[MapKey, LatentMap]:
        """The maps computed so far, by (projection, dims)."""
        with self._lock:
            return dict(self._maps)

    def get(
        self,
        projection: str,
        dims: tuple[int, int] | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> LatentMap:
        """The map, computed once per (projection, dims); ``progress`` hears how far a t-SNE
        computed by this call has got."""
        if projection not in self.projections:
            raise ValueError(
                f"projection {projection!r} is not available for this run; "
                f"choose one of {', '.join(self.projections)}"
            )
        key = (projection, dims if projection == "dims" else None)
        with self._lock:
            if key in self._maps:
                return self._maps[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # one lock per map: a minute of t-SNE never blocks the PCA map of the same run
        with key_lock:
            if key not in self._maps:
                cache_key = None
                if (
                    projection in NONLINEAR
                    and self.cache_dir is not None
                    and self._cache_key is not None
                ):
                    cache_key = self._cache_key()
                lmap = compute_map(
                    projection,
                    self.mu,
                    key[1],
                    cache_dir=self.cache_dir,
                    cache_key=cache_key,
                    progress=progress,
                )
                earlier = self._aligned_to.get(key)
                self._maps[key] = lmap if earlier is None else align_map(lmap, earlier)
            return self._maps[key]

    def tree(self, lmap: LatentMap):
        """Nearest-neighbour index over a non-linear map's coordinates (for lifting)."""
        from sklearn.neighbors import NearestNeighbors

        key = (lmap.projection, lmap.dims)
        assert lmap.projection in NONLINEAR
        with self._lock:
            if key not in self._trees:
                self._trees[key] = NearestNeighbors().fit(lmap.coords)
            return self._trees[key]

    def orbit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 3-D view's basis B (3, D), centre c (D,) and the points' B (μ − c) (N, 3)."""
        with self._lock:
            if self._orbit is None:
                basis, center = orbit_basis(self.mu)
                self._orbit = (basis, center, (self.mu - center) @ basis.T)
            return self._orbit

    def orbit_view(self, angles: tuple[float, float]) -> LatentMap:
        """The 3-D view turned by ``angles`` (yaw, pitch), as a linear map."""
        if self.latent_dim < 3:
            raise ValueError(f"the 3-D view needs latent_dim >= 3; this run's is {self.latent_dim}")
        basis, center, coords3 = self.orbit()
        return orbit_map(coords3, basis, center, angles)
