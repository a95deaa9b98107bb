"""All the numbers that say whether a latent space is good, in one result (``evaluation.json``).

Likelihood (Kingma & Welling 2014; Burda et al. 2016): test −ELBO and the importance-weighted
−log p(x) with k samples, in nats per image and bits per dimension. Latent quality: kNN and
linear-probe accuracy, silhouette, active units (Burda et al. 2016), KL per dimension, total
correlation (Chen et al. 2018), interpolation smoothness and roughness. Disentanglement (on
``shapes``, whose generative factors are known): β-VAE, FactorVAE, MIG, DCI and SAP scores (see
:mod:`vae_atlas.analysis.disentanglement`).

Anything that does not apply is ``None`` and a line in ``notes`` says why (a plain AE has no KL
and no likelihood bound; unlabelled data has no kNN; only ``shapes`` knows its factors). The
likelihood, latent-quality, KL and codebook numbers are computed in
:mod:`vae_atlas.analysis.evaluation_sections`; this module picks the images and runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.attribute_scores import score_attributes
from vae_atlas.analysis.codebook import is_vector_quantised
from vae_atlas.analysis.disentanglement import ShapesOracle, disentanglement_scores
from vae_atlas.analysis.encode import LatentSet, encode_images
from vae_atlas.analysis.evaluation_file import EvaluationResult
from vae_atlas.analysis.evaluation_sections import (
    StageTimer,
    codebook_section,
    kl_section,
    likelihood_section,
    quality_section,
)
from vae_atlas.analysis.likelihood import binarize
from vae_atlas.data import Dataset, ImageSet
from vae_atlas.models.conditional import attribute_names_of
from vae_atlas.run import Run
from vae_atlas.training.heldout import binarization_seed


@dataclass(frozen=True, kw_only=True)
class EvaluationSettings:
    """How much work an evaluation does. ``quick()`` is for interactive use (seconds–a minute)."""

    k: int = 5000
    max_test_images: int | None = None
    max_train_images: int | None = 20_000
    disentanglement_points: int = 4000
    disentanglement_votes: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k={self.k!r} must be >= 1")

    @classmethod
    def quick(cls, k: int = 100, seed: int = 0) -> EvaluationSettings:
        return cls(
            k=k, max_test_images=1000, max_train_images=5000, disentanglement_points=1000,
            disentanglement_votes=200, seed=seed,
        )  # fmt: skip


def evaluate_run(
    run: Run,
    *,
    k: int = 5000,
    quick: bool = False,
    settings: EvaluationSettings | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> EvaluationResult:
    """Evaluate a trained run on its test split (see :func:`evaluate_model`).

    ``quick`` uses :meth:`EvaluationSettings.quick` (k ≤ 100, 1,000 test images); ``settings``
    overrides both. Binary-likelihood runs trained with dynamic binarisation are scored on the
    same fixed binarisation of the test set that training used.
    """
    if settings is None:
        settings = EvaluationSettings.quick(min(k, 100)) if quick else EvaluationSettings(k=k)
    cfg = run.config
    binarize_seed = binarization_seed(cfg.train, "test")
    shapes_size = run.dataset.image_shape[1] if run.dataset.name == "shapes" else None
    result = evaluate_model(
        run.model, run.dataset, settings=settings, binarize_seed=binarize_seed,
        shapes_image_size=shapes_size, log=log,
    )  # fmt: skip
    return replace(
        result,
        run=str(run.path),
        objective=cfg.model.objective,
        weights_sha256=run.weights_sha256(),
    )


def evaluate_model(
    model: nn.Module,
    dataset: Dataset,
    *,
    settings: EvaluationSettings | None = None,
    binarize_seed: int | None = None,
    shapes_image_size: int | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> EvaluationResult:
    """Evaluate any protocol model (see :mod:`vae_atlas.models.protocol`) on ``dataset.test``.

    Parameters
    ----------
    binarize_seed : score a fixed Bernoulli binarisation of the test images (binary likelihoods).
    shapes_image_size : the ``shapes`` image size, enabling the disentanglement scores.
    """
    s = settings or EvaluationSettings()
    timer = StageTimer(log)
    notes: list[str] = []
    split = partial(_encoded_split, model, seed=s.seed, binarize_seed=binarize_seed, timer=timer)
    test = split(dataset.test, s.max_test_images, stage="encode")
    train = split(dataset.train, s.max_train_images, stage="encode train")
    # the likelihood is given each image's own condition, as the encoder was
    own = test.attributes if attribute_names_of(model) else test.labels
    lat_test, lat_train = test.latents, train.latents
    like = likelihood_section(
        model, test.x, lat_test, k=s.k, seed=s.seed, timer=timer, notes=notes, conditions=own
    )
    quality = quality_section(model, lat_train, lat_test, seed=s.seed, timer=timer, notes=notes)
    if lat_test.logvar is not None:
        quality.update(kl_section(model, lat_test, test.x, seed=s.seed, timer=timer, notes=notes))
    dis = _disentanglement(model, shapes_image_size, s, timer=timer, notes=notes)
    attrs = None
    if dataset.attribute_names is not None:
        attrs = timer.run("attribute probes", lambda: score_attributes(
            lat_test.mu, test.attributes, dataset.attribute_names, fit_mu=lat_train.mu,
            fit_values=train.attributes,
        ).as_dict())  # fmt: skip
    vq = is_vector_quantised(model)
    codebook = codebook_section(model, test.x, timer=timer, notes=notes) if vq else None
    return EvaluationResult(
        run="", dataset=dataset.name, objective="vae" if lat_test.logvar is not None else "ae",
        latent_dim=lat_test.latent_dim, n_test=len(test.x), n_dims=int(np.prod(test.x.shape[1:])),
        binarized=binarize_seed is not None, disentanglement=dis, attributes=attrs, notes=notes,
        codebook=codebook,
        settings=asdict(s), seconds=timer.seconds, **like, **quality,
    )  # fmt: skip


def _disentanglement(
    model: nn.Module,
    shapes_image_size: int | None,
    s: EvaluationSettings,
    *,
    timer: StageTimer,
    notes: list[str],
) -> dict[str, Any] | None:
    """The disentanglement scores, which only ``shapes`` (it knows its factors) can give."""
    if shapes_image_size is None:
        notes.append("disentanglement: only the 'shapes' dataset knows its generative factors")
        return None
    oracle = ShapesOracle(model, image_size=shapes_image_size)
    return timer.run("disentanglement", lambda: disentanglement_scores(
        oracle, n_points=s.disentanglement_points, n_votes=s.disentanglement_votes, seed=s.seed,
    ).to_dict())  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class EncodedSplit:
    """The images an evaluation scores from one split, and what the model makes of them."""

    x: torch.Tensor  # float images (n, C, H, W), binarised when the likelihood is binary
    labels: np.ndarray | None
    attributes: np.ndarray | None  # (n, A) when the dataset has attributes
    latents: LatentSet


def _encoded_split(
    model: nn.Module,
    images: ImageSet,
    n: int | None,
    *,
    seed: int,
    binarize_seed: int | None,
    timer: StageTimer,
    stage: str,
) -> EncodedSplit:
    """The seeded random ``n`` images of ``images`` (see :func:`select_images`), encoded; an
    attribute cvae is given each image's own attributes, a class cvae its label."""
    x, labels = select_images(images, n, seed, binarize_seed)
    attributes = None
    if images.attributes is not None:
        attributes = images.attributes[_subset_index(len(images), n, seed)].numpy()
    conditions = attributes if attribute_names_of(model) else None
    latents = timer.run(
        stage, lambda: encode_images(model, x, labels=labels, conditions=conditions)
    )
    return EncodedSplit(x=x, labels=labels, attributes=attributes, latents=latents)


def select_images(
    images: ImageSet, n: int | None, seed: int, binarize_seed: int | None
) -> tuple[torch.Tensor, np.ndarray | None]:
    """Float images (n, C, H, W) of a seeded random subset, and their labels (or None).

    The whole split is binarised before subsetting, so a subset holds exactly the binary images
    the training loop scored.
    """
    x = binarize(images, binarize_seed) if binarize_seed is not None else None
    index = _subset_index(len(images), n, seed)
    x = images.subset(index).float_images() if x is None else x[index]
    labels = None if images.labels is None else images.labels[index].numpy()
    return x, labels


def _subset_index(n_images: int, n: int | None, seed: int) -> torch.Tensor:
    """The sorted indices of the seeded random ``n`` of ``n_images`` (all when ``n`` is None)."""
    if n is None or n >= n_images:
        return torch.arange(n_images)
    order = torch.randperm(n_images, generator=torch.Generator().manual_seed(seed))
    return order[:n].sort().values
