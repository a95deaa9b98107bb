"""All the numbers that say whether a latent space is good, in one result (``evaluation.json``).

Likelihood (Kingma & Welling 2014; Burda et al. 2016): test −ELBO and the importance-weighted
−log p(x) with k samples, in nats per image and bits per dimension. Latent quality: kNN and
linear-probe accuracy, silhouette, active units (Burda et al. 2016), KL per dimension, total
correlation (Chen et al. 2018), interpolation smoothness and roughness. Disentanglement (on
``shapes``, whose generative factors are known): β-VAE, FactorVAE, MIG, DCI and SAP scores (see
:mod:`vae_atlas.analysis.disentanglement`).

Anything that does not apply is ``None`` and a line in ``notes`` says why (a plain AE has no KL
and no likelihood bound; unlabelled data has no kNN; only ``shapes`` knows its factors).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.attribute_scores import score_attributes
from vae_atlas.analysis.codebook import code_usage, is_vector_quantised
from vae_atlas.analysis.conditional import conditional_neg_elbo_per_image
from vae_atlas.analysis.disentanglement import ShapesOracle, disentanglement_scores
from vae_atlas.analysis.encode import LatentSet, encode_images
from vae_atlas.analysis.evaluation_file import EvaluationResult
from vae_atlas.analysis.likelihood import (
    binarize,
    iwae_nll_per_image,
    nats_to_bits_per_dim,
    neg_elbo_per_image,
)
from vae_atlas.analysis.prior_kl import prior_kl
from vae_atlas.analysis.quality import (
    active_units,
    interpolation_roughness,
    interpolation_smoothness,
    knn_accuracy,
    linear_probe_accuracy,
    silhouette_by_class,
    total_correlation,
)
from vae_atlas.data import Dataset, ImageSet
from vae_atlas.models import is_conditional
from vae_atlas.models.conditional import attribute_names_of
from vae_atlas.models.protocol import has_likelihood
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


class _Timer:
    """Collects seconds per stage and reports each one through ``log``."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.seconds: dict[str, float] = {}
        self.log = log

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        self.log(f"  {name}: {self.seconds[name]:.1f} s")
        return out


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
    timer = _Timer(log)
    notes: list[str] = []
    x_test, labels = select_images(dataset.test, s.max_test_images, s.seed, binarize_seed)
    x_train, train_labels = select_images(dataset.train, s.max_train_images, s.seed, binarize_seed)
    # an attribute cvae is told each image's own attributes, a class cvae its labels
    given = attribute_names_of(model) and dataset.attribute_names is not None
    y_test = _subset_attributes(dataset.test, s.max_test_images, s.seed) if given else labels
    y_train = _subset_attributes(dataset.train, s.max_train_images, s.seed) if given else None
    lat_test = timer.run(
        "encode", lambda: encode_images(model, x_test, labels=labels, conditions=y_test)
    )
    lat_test = LatentSet(lat_test.mu, lat_test.logvar, labels)
    lat_train = timer.run(
        "encode train",
        lambda: encode_images(model, x_train, labels=train_labels, conditions=y_train),
    )
    lat_train = LatentSet(lat_train.mu, lat_train.logvar, train_labels)
    like = _likelihood(model, x_test, lat_test, s, timer, notes, y_test)
    quality = _quality(model, lat_train, lat_test, s, timer, notes)
    if lat_test.logvar is not None:
        quality.update(_kl(model, lat_test, x_test, s, timer, notes))
    dis = None
    if shapes_image_size is not None:
        oracle = ShapesOracle(model, image_size=shapes_image_size)
        dis = timer.run("disentanglement", lambda: disentanglement_scores(
            oracle, n_points=s.disentanglement_points, n_votes=s.disentanglement_votes, seed=s.seed,
        ).to_dict())  # fmt: skip
    else:
        notes.append("disentanglement: only the 'shapes' dataset knows its generative factors")
    attrs = None
    if dataset.attribute_names is not None:
        a_test = _subset_attributes(dataset.test, s.max_test_images, s.seed)
        a_train = _subset_attributes(dataset.train, s.max_train_images, s.seed)
        attrs = timer.run("attribute probes", lambda: score_attributes(
            lat_test.mu, a_test, dataset.attribute_names, fit_mu=lat_train.mu, fit_values=a_train,
        ).as_dict())  # fmt: skip
    codebook = _codebook(model, x_test, timer, notes) if is_vector_quantised(model) else None
    return EvaluationResult(
        run="", dataset=dataset.name, objective="vae" if lat_test.logvar is not None else "ae",
        latent_dim=lat_test.latent_dim, n_test=len(x_test), n_dims=int(np.prod(x_test.shape[1:])),
        binarized=binarize_seed is not None, disentanglement=dis, attributes=attrs, notes=notes,
        codebook=codebook,
        settings=asdict(s), seconds=timer.seconds, **like, **quality,
    )  # fmt: skip


def _codebook(
    model: nn.Module, x: torch.Tensor, timer: _Timer, notes: list[str]
) -> dict[str, float | int]:
    """A VQ-VAE's code usage over the test images ``x``, and what does not apply to it."""
    usage = timer.run("codebook", lambda: code_usage(model, x))
    notes.append(
        "vq-vae: the posterior is one code per cell, not a Gaussian; the interpolation "
        "numbers walk between quantised grids through vectors that are not codes"
    )
    return {"perplexity": usage.perplexity, "codes_used": usage.used,
            "codebook_size": len(usage.counts)}  # fmt: skip


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


def _subset_attributes(images: ImageSet, n: int | None, seed: int) -> np.ndarray:
    """The attributes (n, A) of the images :func:`select_images` picks with the same n, seed."""
    assert images.attributes is not None  # the dataset carries attribute names
    return images.attributes[_subset_index(len(images), n, seed)].numpy()


def _likelihood(
    model: nn.Module,
    x: torch.Tensor,
    lat: LatentSet,
    s: EvaluationSettings,
    timer: _Timer,
    notes: list[str],
    conditions: np.ndarray | None = None,
) -> dict[str, Any]:
    n_dims = int(np.prod(x.shape[1:]))
    out: dict[str, Any] = dict.fromkeys(
        ("k", "neg_elbo", "iwae_nll", "iwae_nll_stderr", "neg_elbo_bits_per_dim",
         "iwae_bits_per_dim", "recon_nll"),
    )  # fmt: skip
    if not has_likelihood(model):
        notes.append("likelihood: the model has no log_px_given_z, so no ELBO / NLL")
        return out
    if is_conditional(model):
        elbo = conditional_neg_elbo_per_image(model, x, labels=conditions, seed=s.seed)
        out.update(
            neg_elbo=float(elbo.mean()),
            neg_elbo_bits_per_dim=float(nats_to_bits_per_dim(elbo.mean(), n_dims)),
        )
        own = "attributes" if attribute_names_of(model) else "class"
        notes.append(
            f"likelihood: the cvae's −ELBO is given each image's own {own}; its IWAE "
            "bound is not computed"
        )
        return out  # fmt: skip
    if lat.logvar is None:
        recon = neg_elbo_per_image(model, x, seed=s.seed)
        out["recon_nll"] = float(recon.mean())
        notes.append("likelihood: plain autoencoder or VQ-VAE (no posterior, no KL), so no "
                     "ELBO or IWAE bound; recon_nll is -log p(x | z = encoder(x))")  # fmt: skip
        return out
    elbo = timer.run("elbo", lambda: neg_elbo_per_image(model, x, n_samples=1, seed=s.seed))
    iwae = timer.run("iwae", lambda: iwae_nll_per_image(model, x, k=s.k, seed=s.seed))
    out.update(
        k=s.k,
        neg_elbo=float(elbo.mean()),
        iwae_nll=float(iwae.mean()),
        iwae_nll_stderr=float(iwae.std(ddof=1) / math.sqrt(len(iwae))) if len(iwae) > 1 else None,
        neg_elbo_bits_per_dim=float(nats_to_bits_per_dim(elbo.mean(), n_dims)),
        iwae_bits_per_dim=float(nats_to_bits_per_dim(iwae.mean(), n_dims)),
    )
    return out


def _kl(
    model: nn.Module,
    lat: LatentSet,
    x: torch.Tensor,
    s: EvaluationSettings,
    timer: _Timer,
    notes: list[str],
) -> dict[str, Any]:
    """KL per dimension and in all against the model's own prior, with a note on how it was
    measured wherever that is not N(0, I) in closed form."""
    kl = timer.run("kl per dimension", lambda: prior_kl(model, lat, x, seed=s.seed))
    level = getattr(model, "level_label", None)
    shown = f" of {level()}" if level is not None else ""
    if kl.stderr is not None or level is not None:
        notes.append(f"KL per dimension{shown}: {kl.describe()}")
    if not kl.additive:
        notes.append(
            "KL total: KL(q(z|x) ‖ p(z)) by Monte Carlo at the same draws; a mixture prior "
            "does not factorise, so the KLs per dimension do not sum to it"
        )
    return {"kl_per_dim": kl.per_dim.tolist(), "kl_total": None if kl.additive else kl.total}


def _quality(
    model: nn.Module,
    lat_train: LatentSet,
    lat_test: LatentSet,
    s: EvaluationSettings,
    timer: _Timer,
    notes: list[str],
) -> dict[str, Any]:
    n_active, variances = active_units(lat_test.mu)
    out: dict[str, Any] = {
        "active_units": n_active,
        "active_unit_variance": variances.tolist(),
        "kl_per_dim": None,
        "knn_accuracy": None,
        "linear_probe_accuracy": None,
        "silhouette": None,
        "total_correlation": None,
    }
    if lat_test.labels is not None and lat_train.labels is not None:
        out["knn_accuracy"] = timer.run("knn", lambda: knn_accuracy(lat_train, lat_test, k=5))
        out["linear_probe_accuracy"] = timer.run(
            "linear probe", lambda: linear_probe_accuracy(lat_train, lat_test)
        )
        if len(np.unique(lat_test.labels)) > 1:
            out["silhouette"] = silhouette_by_class(lat_test, seed=s.seed)
    else:
        notes.append("kNN / linear probe / silhouette: the dataset has no labels")
    if lat_test.logvar is not None:
        out["total_correlation"] = timer.run("tc", lambda: total_correlation(lat_test, seed=s.seed))
    else:
        notes.append("total correlation: a plain AE or a VQ-VAE has no posterior q(z|x)")
    if is_conditional(model):  # interpolated codes would need a class to decode under
        notes.append("smoothness / roughness: a cvae decodes a code only under a class")
        return {**out, "smoothness": None, "roughness": None}
    out["smoothness"] = timer.run(
        "smoothness", lambda: interpolation_smoothness(model, lat_test, seed=s.seed)
    )
    out["roughness"] = timer.run(
        "roughness", lambda: interpolation_roughness(model, lat_test, seed=s.seed)
    )
    return out
