"""Prior samples and reconstructions (Kingma & Welling 2014): codes drawn and decoded, and
inputs passed through encoder mean and decoder.

Codes come from one of two sources (:data:`SOURCES`): ``"prior"``, the model's prior (N(0, I), or
its own: :func:`vae_atlas.models.prior_of`), or
``"fitted"``, a Gaussian with the mean and covariance of a set of codes (a plain autoencoder has
no prior; drawing from the Gaussian its codes occupy is the closest stand-in). The report and the
explorer both draw through :func:`sample_codes` and label what they show with
:func:`source_label`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.aggregate import draw_prior
from vae_atlas.analysis.encode import decode_latents, encode_images
from vae_atlas.data import ImageSet
from vae_atlas.models.priors import STANDARD_LABEL, MixturePrior, own_prior


@dataclass(frozen=True)
class Samples:
    """Codes ``z`` (N, D) and their decodings ``images`` (N, C, H, W) in [0, 1]."""

    z: np.ndarray
    images: np.ndarray


@dataclass(frozen=True)
class Reconstructions:
    """Inputs ``originals`` (N, C, H, W), their ``reconstructions`` (decoded means) and the
    indices of the inputs in their split."""

    originals: np.ndarray
    reconstructions: np.ndarray
    index: np.ndarray

    @property
    def mse(self) -> float:
        return float(np.mean((self.originals - self.reconstructions) ** 2))


SOURCES = ("prior", "fitted")
# added to the fitted covariance so that codes spanning fewer than D directions still give a
# positive-definite matrix; negligible next to the spread of trained codes
_RIDGE = 1e-6


def sample_prior(n: int, latent_dim: int, *, seed: int = 0) -> np.ndarray:
    """n draws from N(0, I) (n, D), from a seeded generator."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim))


def sample_codes(
    n: int,
    latent_dim: int,
    *,
    source: str = "prior",
    codes: np.ndarray | None = None,
    seed: int = 0,
    prior: MixturePrior | None = None,
) -> np.ndarray:
    """n codes (n, D) from ``source``, from a seeded generator.

    ``"prior"``: ``prior`` (N(0, I) when None; a mixture's draws are its components' means +
    σ·ε with the same ε). ``"fitted"``: N(m, S) with m and S the mean and covariance of
    ``codes`` (N, D), drawn as m + L ε with S + 1e-6 I = L Lᵀ and ε ~ N(0, I) — the same ε as
    the prior's for the same seed.
    """
    if source not in SOURCES:
        raise ValueError(f"source={source!r} is not one of {', '.join(SOURCES)}")
    if source == "prior":
        return draw_prior(prior, n, latent_dim, np.random.default_rng(seed))
    eps = sample_prior(n, latent_dim, seed=seed)
    if codes is None or codes.ndim != 2 or codes.shape[1] != latent_dim or len(codes) < 2:
        raise ValueError(f"source='fitted' needs codes of shape (N >= 2, {latent_dim})")
    codes = np.asarray(codes, dtype=np.float64)
    cov = np.atleast_2d(np.cov(codes, rowvar=False))  # (D, D)
    chol = np.linalg.cholesky(cov + _RIDGE * np.eye(latent_dim))
    return codes.mean(0) + eps @ chol.T


def source_label(source: str, prior: MixturePrior | None = None) -> str:
    """What ``source`` is, in words for a caption or a page (``prior``: the model's, when not
    N(0, I))."""
    if source == "prior":
        return STANDARD_LABEL if prior is None else prior.label
    if source == "fitted":
        return "a Gaussian fitted to the latent means (a plain autoencoder has no prior)"
    raise ValueError(f"source={source!r} is not one of {', '.join(SOURCES)}")


def prior_samples(
    model: nn.Module,
    n: int,
    *,
    seed: int = 0,
    source: str = "prior",
    codes: np.ndarray | None = None,
) -> Samples:
    """Decode n codes drawn from ``source`` (see :func:`sample_codes`; ``"prior"`` is the
    model's own, :func:`vae_atlas.models.prior_of`)."""
    prior = own_prior(model) if source == "prior" else None
    z = sample_codes(n, int(model.latent_dim), source=source, codes=codes, seed=seed, prior=prior)
    return Samples(z, decode_latents(model, z))


def reconstruct(model: nn.Module, images: ImageSet, index: np.ndarray) -> Reconstructions:
    """Originals and reconstructions (decode of the posterior mean) of ``images[index]``."""
    index = np.asarray(index, dtype=np.int64)
    subset = images.subset(torch.as_tensor(index))
    latents = encode_images(model, subset)
    originals = subset.images.numpy().astype(np.float32) / 255.0
    return Reconstructions(originals, decode_latents(model, latents.mu), index)


def spread_index(labels: np.ndarray | None, n: int, total: int, *, seed: int = 0) -> np.ndarray:
    """Up to n indices into a split of ``total`` inputs: round-robin over the classes when there
    are labels (so every class shows up), else a seeded random choice."""
    rng = np.random.default_rng(seed)
    n = min(n, total)
    if labels is None:
        return np.sort(rng.choice(total, size=n, replace=False)).astype(np.int64)
    labels = np.asarray(labels)
    pools = [rng.permutation(np.flatnonzero(labels == c)).tolist() for c in np.unique(labels)]
    out: list[int] = []
    while len(out) < n:
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop())
    return np.asarray(out, dtype=np.int64)
