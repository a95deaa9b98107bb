"""The evidence the diagnostics (:mod:`vae_atlas.analysis.diagnostics`) read: the numbers a model
and its test codes give, measured once and handed to the rules as one :class:`Evidence`.

* KL per dimension against the model's own prior (:func:`~vae_atlas.analysis.prior_kl.prior_kl`);
* decoder use: the per-pixel variance of the test codes' decodings over the data's
  (:func:`decoder_variance_ratio`; a decoder that ignores z, Chen et al. 2017, decodes every code
  to about the same image);
* holes: the prior's mass where the aggregate posterior is thin
  (:func:`~vae_atlas.analysis.aggregate.hole_fraction`, against the model's own prior if it has
  one);
* roughness of the decoded interpolations (:func:`median_roughness`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from vae_atlas.analysis.aggregate import HOLE_NEIGHBOURS, aggregate_codes, hole_fraction
from vae_atlas.analysis.encode import LatentSet, decode_latents
from vae_atlas.analysis.prior_kl import prior_kl
from vae_atlas.analysis.quality import interpolation_roughness
from vae_atlas.models.priors import own_prior


@dataclass(frozen=True)
class Evidence:
    """The measurements the rules read; ``None`` means "not measured / not applicable".

    ``kl_per_dim`` (D,) is None for a plain autoencoder; ``mu`` (N, D) are test-set means;
    ``decoder_variance_ratio`` is measured at those codes (:func:`decoder_variance_ratio`);
    ``hole_fraction`` is the prior mass in holes.
    """

    mu: np.ndarray
    kl_per_dim: np.ndarray | None = None
    decoder_variance_ratio: float | None = None
    hole_fraction: float | None = None
    knn_accuracy: float | None = None
    silhouette: float | None = None
    n_classes: int | None = None
    roughness: float | None = None
    # False for a model with a prior of its own (a VampPrior, a hierarchical level): the rules
    # phrased against N(0, I) then do not apply, the holes are measured against its prior
    prior_standard: bool = True


def decoder_variance_ratio(model: nn.Module, codes: np.ndarray, data: np.ndarray) -> float:
    """Mean per-pixel variance of the decoded ``codes`` (N, D) over that of ``data``
    (N, C, H, W)."""
    images = decode_latents(model, np.asarray(codes, dtype=np.float64))
    data_var = float(np.mean(np.var(np.asarray(data, dtype=np.float64), axis=0)))
    return float(np.mean(np.var(images, axis=0)) / max(data_var, 1e-12))


def measure_evidence(
    model: nn.Module,
    latents: LatentSet,
    images: np.ndarray,
    *,
    seed: int = 0,
    kl_per_dim: np.ndarray | None = None,
) -> Evidence:
    """The model-side evidence for ``latents`` of ``images`` (N, C, H, W) in [0, 1]: KL per
    dimension against the model's own prior (:func:`~vae_atlas.analysis.prior_kl.prior_kl`,
    unless given), decoder use at the codes, holes and roughness (class numbers are left
    None)."""
    n = min(len(latents), 2000)
    prior = own_prior(model)
    if kl_per_dim is None and latents.logvar is not None:
        kl_per_dim = prior_kl(model, latents, images, seed=seed).per_dim
    return Evidence(
        mu=latents.mu,
        kl_per_dim=kl_per_dim,
        decoder_variance_ratio=decoder_variance_ratio(model, latents.mu[:n], images[:n]),
        hole_fraction=(
            hole_fraction(
                aggregate_codes(latents.mu, latents.logvar, seed=seed),
                seed=seed,
                prior=prior,
            )
            if len(latents) > HOLE_NEIGHBOURS
            else None
        ),
        roughness=median_roughness(model, latents.mu, seed=seed) if len(latents) > 1 else None,
        prior_standard=prior is None,
    )


def median_roughness(
    model: nn.Module, mu: np.ndarray, *, pairs: int = 64, steps: int = 12, seed: int = 0
) -> float:
    """:func:`~vae_atlas.analysis.quality.interpolation_roughness` of ``pairs`` random pairs."""
    latents = LatentSet(np.asarray(mu, dtype=np.float64), None)
    return interpolation_roughness(model, latents, n_pairs=pairs, n_steps=steps, seed=seed)
