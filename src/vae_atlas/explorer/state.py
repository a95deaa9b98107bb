"""What the explorer holds for one run: its model, the encoded points and their maps.

Everything that every page load needs (the latent means of the shown split, KL per dimension,
active dimensions, the default map, a nearest-neighbour index) is computed once when the app is
created; the other maps are computed on first request and kept by the run's
:class:`~vae_atlas.explorer.map_store.MapStore` (``run.maps``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
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
from vae_atlas.explorer.map_store import MapKey, MapStore
from vae_atlas.explorer.maps import LatentMap
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
        aligned_to: dict[MapKey, LatentMap] | None = None,
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
        from sklearn.neighbors import NearestNeighbors

        self.neighbours = NearestNeighbors().fit(self.latents.mu)
        self.maps = MapStore(
            self.latents.mu,
            cache_dir=cache_dir,
            cache_key=lambda: projection_key(self.model, images.images),
            aligned_to=aligned_to,
        )
        self.maps.get(self.maps.default_projection)

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
        new = ExplorerRun(
            self.id,
            self.name,
            model,
            self.images,
            class_names=self.class_names,
            info=self.info,
            cache_dir=self.maps.cache_dir,
            upload_layout=self.upload_layout,
            attribute_names=self.attribute_names,
            aligned_to=self.maps.shown(),
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

    def encode(
        self, x: np.ndarray, classes: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Posterior mean (B, D) and σ (B, D) or None of images x (B, C, H, W) in [0, 1]; a
        conditional model encodes given ``classes`` (B,) or attribute rows (B, A)."""
        x = torch.as_tensor(x, dtype=torch.float32)
        out = encode_images(self.model, x, conditions=classes)
        return out.mu, out.sigma
