"""What the explorer holds for one run: its model, the encoded points and their maps.

Everything that every page load needs (the latent means of the shown split, KL per dimension,
active dimensions, the default map, a nearest-neighbour index) is computed once when the app is
created; the other maps are computed on first request and kept in memory, and t-SNE and UMAP
also on disk in the run's ``cache/`` folder, in the cache the report shares
(:mod:`vae_atlas.analysis.projection_cache`): a map either of them computed is reused by the other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis import (
    LatentSet,
    decode_latents,
    encode_images,
    model_device,
)
from vae_atlas.analysis.codebook import is_vector_quantised
from vae_atlas.analysis.conditional import nearest_labels
from vae_atlas.analysis.prior_kl import kl_per_dim_of
from vae_atlas.analysis.projection_cache import projection_key
from vae_atlas.analysis.sampling import source_label
from vae_atlas.analysis.traversal import dimension_ranking
from vae_atlas.config import ConfigError
from vae_atlas.data import ImageSet
from vae_atlas.explorer.images import LAYOUTS, border_brightness
from vae_atlas.explorer.maps import NONLINEAR, LatentMap, align_map, compute_map
from vae_atlas.explorer.orbit import orbit_basis, orbit_map
from vae_atlas.explorer.weights import DecoderExport, export_decoder
from vae_atlas.models import as_latent_model, is_conditional, own_prior
from vae_atlas.models.conditional import image_conditions
from vae_atlas.run import Run


class ExplorerRun:
    """One explorable model and the data points shown for it.

    Parameters
    ----------
    run_id : URL-safe identifier used in the API.
    name : display name.
    model : a vae-atlas AutoEncoder or any module wrapped by ``as_latent_model``.
    images : the points to show (uint8 (N, C, H, W) with optional labels).
    class_names : names of the label values, if known.
    info : short descriptive strings (objective, family, dataset).
    cache_dir : where t-SNE / UMAP maps are stored between sessions (None: memory only).
    upload_layout : how uploads are laid out before encoding (``"mnist"`` or ``"fill"``, see
        :mod:`vae_atlas.explorer.images`).
    attribute_names : names of the columns of ``images.attributes``, if the images have any.
    aligned_to : earlier maps of the same points by (projection, dims); a map computed here is
        turned onto its earlier one (:func:`~vae_atlas.explorer.maps.align_map`).
    """

    def __init__(
        self,
        run_id: str,
        name: str,
        model: nn.Module,
        images: ImageSet,
        *,
        class_names: Sequence[str] | None = None,
        info: dict[str, str] | None = None,
        cache_dir: Path | None = None,
        upload_layout: str = "fill",
        attribute_names: Sequence[str] | None = None,
        aligned_to: dict[tuple[str, tuple[int, int] | None], LatentMap] | None = None,
    ) -> None:
        if upload_layout not in LAYOUTS:
            raise ValueError(f"upload_layout={upload_layout!r} is not one of {', '.join(LAYOUTS)}")
        if is_vector_quantised(model):
            raise ConfigError(
                f"{name}: a VQ-VAE's codes are discrete (one code per grid cell), so there is no "
                f"latent map to explore; `vae-atlas report` draws its codebook and code maps"
            )
        self.id = run_id
        self.version = 0  # weights swapped in since the app started (explore --follow)
        self.cache_dir = cache_dir
        self.upload_layout = upload_layout
        self.name = name
        self.model = model.eval()
        self.device = model_device(model)
        self.images = images
        self.class_names = list(class_names) if class_names is not None else None
        self.attribute_names = list(attribute_names) if attribute_names is not None else None
        self.info = {"objective": "?", "family": "?", "dataset": "?", **(info or {})}
        self.image_shape = tuple(int(s) for s in images.images.shape[1:])
        self.latents: LatentSet = encode_images(self.model, images)
        own = image_conditions(self.model, images)  # a cvae's: classes (N,) or rows (N, A)
        self.conditions = None if own is None else own.numpy()
        self.latent_dim = self.latents.latent_dim
        self.stochastic = self.latents.logvar is not None
        self.kl = kl_per_dim_of(self.model, self.latents, images.images)  # the model's own prior
        self.variance = np.var(self.latents.mu, axis=0)
        # ranked and marked active by the same rule as the report's traversals
        self.dim_order, _, _, active = dimension_ranking(self.latents, self.kl)
        self.active = np.zeros(self.latent_dim, dtype=bool)
        self.active[self.dim_order] = active
        self.n_active = int(active.sum())
        self.mean = self.latents.mu.mean(0)
        self.background = border_brightness(images.images[:2000].numpy() / 255.0)
        # a conditional decoder also reads the class, which the in-page decoder does not know
        self.decoder: DecoderExport | None = (
            None if is_conditional(self.model) else export_decoder(self.model)
        )
        self._maps: dict[tuple[str, tuple[int, int] | None], LatentMap] = {}
        self._aligned_to = dict(aligned_to or {})
        self._map_trees: dict[tuple[str, tuple[int, int] | None], object] = {}
        self._lock = threading.Lock()
        self._orbit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._key_locks: dict[tuple[str, tuple[int, int] | None], threading.Lock] = {}
        from sklearn.neighbors import NearestNeighbors

        self.neighbours = NearestNeighbors().fit(self.latents.mu)
        self.default_projection = "latent" if self.latent_dim <= 2 else "pca"
        self.get_map(self.default_projection)

    @classmethod
    def from_run(
        cls, run: Run, *, run_id: str | None = None, max_points: int | None = None
    ) -> ExplorerRun:
        """Explore a trained run on its test split (the first ``max_points`` images)."""
        test = run.dataset.test
        if max_points is not None and max_points < len(test):
            test = test.subset(slice(0, max_points))
        cfg = run.config
        info = {
            "objective": cfg.model.objective,
            "family": cfg.model.family,
            "dataset": cfg.data.name,
        }
        # t-SNE/UMAP maps are kept in the run's cache/ folder when the run can be written to
        writable = os.access(run.path, os.W_OK)
        return cls(
            run_id or run.name,
            run.name,
            run.model,
            test,
            class_names=run.dataset.class_names,
            info=info,
            cache_dir=run.cache_dir if writable else None,
            upload_layout="mnist" if run.dataset.name == "mnist" else "fill",  # a store keeps it
            attribute_names=run.dataset.attribute_names,
        )

    def with_model(self, model: nn.Module) -> ExplorerRun:
        """The same points and settings explored with other weights (a run that trained on), each
        map turned onto this one's so the picture does not spin or flip."""
        with self._lock:
            shown = dict(self._maps)
        new = ExplorerRun(
            self.id,
            self.name,
            model,
            self.images,
            class_names=self.class_names,
            info=self.info,
            cache_dir=self.cache_dir,
            upload_layout=self.upload_layout,
            attribute_names=self.attribute_names,
            aligned_to=shown,
        )
        new.version = self.version + 1
        return new

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        images: ImageSet,
        *,
        name: str,
        latent_dim: int | None = None,
        class_names: Sequence[str] | None = None,
        upload_layout: str = "fill",
    ) -> ExplorerRun:
        """Explore a user's own model (see :func:`vae_atlas.models.as_latent_model`);
        ``upload_layout="mnist"`` when ``images`` are laid out like MNIST."""
        kwargs = {} if latent_dim is None else {"latent_dim": latent_dim}
        wrapped = as_latent_model(model, **kwargs)
        return cls(
            name,
            name,
            wrapped,
            images,
            class_names=class_names,
            info={"family": "custom"},
            upload_layout=upload_layout,
        )

    @property
    def projections(self) -> list[str]:
        if self.latent_dim <= 2:
            return ["latent"]
        return ["pca", "dims", "umap", "tsne", "orbit"]

    def orbit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 3-D view's basis B (3, D), centre c (D,) and the points' B (μ − c) (N, 3)."""
        with self._lock:
            if self._orbit is None:
                basis, center = orbit_basis(self.latents.mu)
                self._orbit = (basis, center, (self.latents.mu - center) @ basis.T)
            return self._orbit

    def orbit_view(self, angles: tuple[float, float]) -> LatentMap:
        """The 3-D view turned by ``angles`` (yaw, pitch), as a linear map."""
        if self.latent_dim < 3:
            raise ValueError(f"the 3-D view needs latent_dim >= 3; this run's is {self.latent_dim}")
        basis, center, coords3 = self.orbit()
        return orbit_map(coords3, basis, center, angles)

    @property
    def labels(self) -> np.ndarray | None:
        return self.latents.labels

    @property
    def sample_source(self) -> str:
        """Where samples come from by default: the prior, or for a plain AE the fitted Gaussian."""
        return "prior" if self.stochastic else "fitted"

    @property
    def prior(self) -> str:
        return source_label(self.sample_source, own_prior(self.model))

    def slider_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension slider range: the data's 0.5–99.5 % span, padded, and ±3 for a VAE."""
        lo, hi = np.percentile(self.latents.mu, [0.5, 99.5], axis=0)
        pad = 0.15 * np.maximum(hi - lo, 1e-3)
        lo, hi = lo - pad, hi + pad
        if self.stochastic:
            lo, hi = np.minimum(lo, -3.0), np.maximum(hi, 3.0)
        return lo, hi

    def get_map(
        self,
        projection: str,
        dims: tuple[int, int] | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> LatentMap:
        """The map, computed once per (projection, dims) and cached (thread-safe); ``progress``
        hears how far a t-SNE computed by this call has got."""
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
                if projection in NONLINEAR and self.cache_dir is not None:
                    cache_key = projection_key(self.model, self.images.images)
                lmap = compute_map(
                    projection,
                    self.latents.mu,
                    key[1],
                    cache_dir=self.cache_dir,
                    cache_key=cache_key,
                    progress=progress,
                )
                earlier = self._aligned_to.get(key)
                self._maps[key] = lmap if earlier is None else align_map(lmap, earlier)
            return self._maps[key]

    def map_tree(self, lmap: LatentMap):
        """Nearest-neighbour index over a non-linear map's coordinates (for lifting)."""
        from sklearn.neighbors import NearestNeighbors

        key = (lmap.projection, lmap.dims)
        assert lmap.projection in NONLINEAR
        with self._lock:
            if key not in self._map_trees:
                self._map_trees[key] = NearestNeighbors().fit(lmap.coords)
            return self._map_trees[key]

    def decode(self, z: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
        """Images (B, C, H, W) float32 in [0, 1] for codes z (B, D) (B is capped by the API).

        A conditional model decodes under ``classes``: classes (B,), or an attribute cvae's
        attribute rows (B, A); by default each code's own condition, that of the nearest test
        code (an encoded test image's own label or attributes)."""
        if is_conditional(self.model):
            if classes is None:
                classes = nearest_labels(self.latents.mu, self.conditions, z)
            return decode_latents(self.model, z, labels=classes)
        if len(z) > 1024:
            return decode_latents(self.model, z)
        # the hot path of the hover fallback: no per-call eval()/train() toggling
        with torch.inference_mode():
            x = self.model.decode(
                torch.as_tensor(np.asarray(z), dtype=torch.float32).to(self.device)
            )
        return x.float().cpu().numpy()

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Posterior mean (B, D) and σ (B, D) or None of images x (B, C, H, W) in [0, 1]."""
        out = encode_images(self.model, torch.as_tensor(x, dtype=torch.float32))
        return out.mu, out.sigma
