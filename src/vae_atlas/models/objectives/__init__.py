"""The disentangling objectives, one module per family, each a pure loss function of the
model's outputs returning :class:`~vae_atlas.models.vae.LossTerms`: β-TCVAE (Chen et al. 2018),
DIP-VAE (Kumar et al. 2018) and FactorVAE (Kim & Mnih 2018).

``OBJECTIVE_LOSSES`` maps an objective's name to its loss; :meth:`AutoEncoder.loss` dispatches
through it. Every loss takes ``(model, x, mu, logvar, *, kl_weight, dataset_size, generator)``.
"""

from __future__ import annotations

from collections.abc import Callable

from vae_atlas.models.objectives.dip import dip_covariance, dip_loss, dip_penalty
from vae_atlas.models.objectives.factor import (
    FactorDiscriminator,
    FactorVAE,
    discriminator_loss,
    factor_loss,
    permute_dims,
)
from vae_atlas.models.objectives.tcvae import (
    KLDecomposition,
    decompose_kl,
    log_aggregate_densities,
    log_importance_weights,
    tcvae_loss,
)
from vae_atlas.models.vae import LossTerms

OBJECTIVE_LOSSES: dict[str, Callable[..., LossTerms]] = {
    "beta-tcvae": tcvae_loss,
    "dip-vae": dip_loss,
    "factor-vae": factor_loss,
}

__all__ = [
    "OBJECTIVE_LOSSES",
    "FactorDiscriminator",
    "FactorVAE",
    "KLDecomposition",
    "decompose_kl",
    "dip_covariance",
    "dip_loss",
    "dip_penalty",
    "discriminator_loss",
    "factor_loss",
    "log_aggregate_densities",
    "log_importance_weights",
    "permute_dims",
    "tcvae_loss",
]
