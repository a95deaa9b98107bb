"""Prior samples and reconstructions (Kingma & Welling 2014): z ~ N(0, I) decoded, and inputs
passed through encoder mean and decoder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import decode_latents, encode_images
from vae_atlas.data import ImageSet


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


def sample_prior(n: int, latent_dim: int, *, seed: int = 0) -> np.ndarray:
    """n draws from N(0, I) (n, D), from a seeded generator."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim))


def prior_samples(model: nn.Module, n: int, *, seed: int = 0) -> Samples:
    """Decode n prior draws."""
    z = sample_prior(n, int(model.latent_dim), seed=seed)
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
