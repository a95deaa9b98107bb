"""The numbers a report draws, computed once per source and shared by its figures."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from vae_atlas.analysis.conditional import conditional_neg_elbo_per_image
from vae_atlas.analysis.encode import LatentSet, encode_images
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.analysis.prior_kl import PriorKL, prior_kl
from vae_atlas.analysis.projection import Projection, project_latents
from vae_atlas.analysis.projection_cache import projection_key
from vae_atlas.analysis.quality import knn_accuracy, silhouette_by_class
from vae_atlas.analysis.sampling import spread_index
from vae_atlas.analysis.traversal import dimension_ranking
from vae_atlas.data import ImageSet
from vae_atlas.models import is_conditional
from vae_atlas.models.hierarchical import has_levels
from vae_atlas.models.priors import MixturePrior, own_prior
from vae_atlas.models.protocol import has_likelihood
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import AtlasSource


class AtlasContext:
    """Lazily computed, cached numbers for one source (test-set latents, projections, scores)."""

    def __init__(self, source: AtlasSource, options: ReportOptions) -> None:
        self.source = source
        self.options = options

    @property
    def class_names(self) -> tuple[str, ...] | None:
        if self.test.labels is None:
            return None
        names = self.source.dataset.class_names
        n = int(self.source.dataset.test.labels.max()) + 1
        return tuple(names) if names and len(names) >= n else tuple(str(i) for i in range(n))

    @cached_property
    def test(self) -> ImageSet:
        """The test split, subsampled (seeded, class-balanced) to ``max_points``."""
        full = self.source.dataset.test
        if len(full) <= self.options.max_points:
            return full
        labels = None if full.labels is None else full.labels.numpy()
        index = np.sort(spread_index(labels, self.options.max_points, len(full)))
        return full.subset(torch.as_tensor(index))

    @cached_property
    def latents(self) -> LatentSet:
        return encode_images(self.source.model, self.test)

    @cached_property
    def prior(self) -> MixturePrior | None:
        """The model's own prior (a VampPrior, a hierarchical level's), None for N(0, I)."""
        return own_prior(self.source.model)

    @cached_property
    def kl(self) -> PriorKL | None:
        """KL per dimension of the test codes against the model's own prior (None for a point
        encoder)."""
        if self.latents.logvar is None:
            return None
        return prior_kl(self.source.model, self.latents, self.images, seed=self.options.seed)

    @property
    def level_words(self) -> str:
        """The level a hierarchical model shows ("the bottom level z1"), else ""."""
        return self.source.model.level_words if has_levels(self.source.model) else ""

    @cached_property
    def train_latents(self) -> LatentSet:
        train = self.source.dataset.train
        if len(train) > 10_000:
            train = train.subset(torch.as_tensor(np.arange(10_000)))
        return encode_images(self.source.model, train)

    @cached_property
    def images(self) -> np.ndarray:
        """Test images as float32 (N, C, H, W) in [0, 1]."""
        return self.test.images.numpy().astype(np.float32) / 255.0

    @cached_property
    def ranking(self) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
        return dimension_ranking(self.latents, None if self.kl is None else self.kl.per_dim)

    @property
    def top_dims(self) -> tuple[int, int]:
        """The chosen dimensions, else the two most informative (0, 1 for a 2-D space)."""
        if self.options.dims is not None:
            return self.options.dims
        order = self.ranking[0]
        if len(order) < 2:
            return (0, 0)
        return tuple(sorted((int(order[0]), int(order[1]))))  # type: ignore[return-value]

    @property
    def grid_base(self) -> np.ndarray:
        """The code holding a grid's off-plane coordinates: a chosen test input's, or the mean."""
        if self.options.grid_base is None:
            return self.latents.mu.mean(axis=0)
        return self.latents.mu[self.options.grid_base]

    def projection(self, method: str) -> Projection:
        """The test means projected with ``method`` (cached in memory and, if possible, on disk)."""
        cache = self.__dict__.setdefault("_projections", {})
        if method not in cache:
            cache_dir = self.source.cache_dir
            key = None if cache_dir is None else projection_key(self.source.model, self.test.images)
            cache[method] = project_latents(
                self.latents.mu, method, seed=self.options.seed, cache_dir=cache_dir, cache_key=key
            )
        return cache[method]

    @cached_property
    def scores(self) -> np.ndarray | None:
        """−ELBO per test image, or None when the model cannot score images."""
        if not has_likelihood(self.source.model):
            return None
        if is_conditional(self.source.model):  # scored under each input's own class
            return conditional_neg_elbo_per_image(
                self.source.model, self.test, seed=self.options.seed
            )
        return neg_elbo_per_image(self.source.model, self.test, seed=self.options.seed)

    @cached_property
    def class_quality(self) -> tuple[float | None, float | None]:
        """(5-NN accuracy, silhouette) of the classes, or Nones for unlabelled data."""
        lat = self.latents
        if lat.labels is None or len(np.unique(lat.labels)) < 2:
            return None, None
        acc = (
            knn_accuracy(self.train_latents, lat) if self.train_latents.labels is not None else None
        )
        return acc, silhouette_by_class(lat, seed=self.options.seed)


def ctx_dims_phrase(ctx: AtlasContext, dims: tuple[int, int]) -> str:
    """ " in dimensions z3, z7 (chosen)" or "... (the two most informative)" for captions."""
    why = "chosen" if ctx.options.dims is not None else "the two most informative"
    return f" in dimensions z{dims[0] + 1}, z{dims[1] + 1} ({why})"
