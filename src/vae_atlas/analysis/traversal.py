"""Per-dimension latent traversals (Higgins et al. 2017, β-VAE, fig. 1): hold a base code, sweep
one dimension over −3…+3 prior standard deviations, decode.

A plain autoencoder's codes are not tied to the prior (they may span ±25 where the prior spans
±3), so for a deterministic encoder each dimension is swept over its own codes' mean ± 3 of their
standard deviations instead: the same −3…+3, in the units of that dimension's spread.

Dimensions are ordered by their mean KL to the prior (most informative first); a dimension whose
KL is below ``diagnostics.ACTIVE_KL_THRESHOLD`` carries no information about the input and is
marked inactive — sweeping it typically changes nothing. For a plain autoencoder (no KL) the
variance of the means orders the dimensions instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from vae_atlas.analysis.diagnostics import active_dimensions
from vae_atlas.analysis.encode import LatentSet, decode_latents
from vae_atlas.analysis.quality import ACTIVE_UNIT_THRESHOLD, kl_per_dim


@dataclass(frozen=True)
class Traversal:
    """Decodings ``images`` (n_dims, S, C, H, W) of ``base`` (D,) with dimension ``dims[i]`` set
    to ``centre[i] + values[j] * scale[i]`` (``unit`` names what ``values`` count: prior σ, or
    the dimension's own spread for a plain AE). ``score`` (n_dims,) is what ordered them (KL
    nats, or variance of the means for a plain AE, named by ``score_name``); ``active``
    (n_dims,) marks informative ones."""

    images: np.ndarray
    dims: np.ndarray
    values: np.ndarray
    base: np.ndarray
    score: np.ndarray
    score_name: str
    active: np.ndarray
    centre: np.ndarray | None = None
    scale: np.ndarray | None = None
    unit: str = "prior σ"

    def swept(self, row: int) -> np.ndarray:
        """The latent values (S,) that row ``row``'s dimension takes."""
        centre = 0.0 if self.centre is None else float(self.centre[row])
        scale = 1.0 if self.scale is None else float(self.scale[row])
        return centre + self.values * scale


def dimension_ranking(
    latents: LatentSet, kl: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
    """Dimensions sorted most-informative first: (order (D,), score (D,), score name, active (D,)).

    The score is the mean KL per dimension for a stochastic encoder (``kl`` (D,) when given —
    e.g. against the model's own prior, :func:`~vae_atlas.analysis.prior_kl.prior_kl` — else
    to N(0, I); active: :func:`~vae_atlas.analysis.diagnostics.active_dimensions`), else the
    variance of the means (active: > ``ACTIVE_UNIT_THRESHOLD``).
    """
    if latents.logvar is not None:
        score = kl_per_dim(latents) if kl is None else np.asarray(kl, dtype=np.float64)
        name = "KL (nats)"
        active = active_dimensions(score)
    else:
        score, name = np.var(latents.mu, axis=0), "variance of means"
        active = score > ACTIVE_UNIT_THRESHOLD
    order = np.argsort(-score, kind="stable")
    return order, score[order], name, active[order]


def traverse(
    model: nn.Module,
    base: np.ndarray,
    latents: LatentSet,
    *,
    steps: int = 9,
    limit: float = 3.0,
    max_dims: int | None = 10,
    kl: np.ndarray | None = None,
) -> Traversal:
    """Sweep each dimension (most informative first) from ``-limit`` to ``+limit`` with the
    others held at ``base`` (D,); ``latents`` ranks the dimensions. With more than ``max_dims``
    dimensions, the ``max_dims - 2`` most informative and the 2 least informative are shown;
    ``kl`` as in :func:`dimension_ranking`."""
    order, score, name, active = dimension_ranking(latents, kl)
    if max_dims is not None and max_dims < len(order):
        # the most informative dims, plus the two least so that inactive ones are seen too
        tail = min(2, max_dims // 2)
        keep = np.r_[np.arange(max_dims - tail), np.arange(len(order) - tail, len(order))]
        order, score, active = order[keep], score[keep], active[keep]
    values = np.linspace(-limit, limit, steps)
    if latents.logvar is None:  # a point encoder: its own spread, not the prior's
        centre, scale = latents.mu.mean(axis=0)[order], latents.mu.std(axis=0)[order]
        unit = "std of its codes, about their mean"
    else:
        centre, scale, unit = np.zeros(len(order)), np.ones(len(order)), "prior σ"
    base = np.asarray(base, dtype=np.float64)
    z = np.repeat(base[None, None, :], len(order) * steps, axis=0).reshape(len(order), steps, -1)
    for row, dim in enumerate(order):
        z[row, :, dim] = centre[row] + values * scale[row]
    images = decode_latents(model, z.reshape(-1, base.shape[0]))  # (n_dims*S, C, H, W)
    images = images.reshape(len(order), steps, *images.shape[1:])
    return Traversal(images, order, values, base, score, name, active, centre, scale, unit)
