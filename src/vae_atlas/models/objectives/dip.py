"""DIP-VAE (Kumar et al. 2018): the VAE loss plus a penalty that pulls a covariance of the codes
towards the identity, so the inferred prior is decorrelated like p(z) = N(0, I).

* type ``i``: C = Cov_batch[μ(x)], the covariance of the posterior means;
* type ``ii``: C = Cov_batch[μ(x)] + E_batch[diag σ²(x)], the covariance of the aggregate
  posterior q(z) = E_x q(z | x) (law of total covariance).

penalty(C) = λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)². Covariances are batch estimates with
1/B (E[μμᵀ] − E[μ]E[μ]ᵀ, as in the paper).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from vae_atlas.models.vae import LossTerms, gaussian_terms

if TYPE_CHECKING:
    from vae_atlas.models.vae import AutoEncoder


def dip_covariance(mu: torch.Tensor, logvar: torch.Tensor, dip_type: str) -> torch.Tensor:
    """The covariance (D, D) DIP-VAE ``dip_type`` ("i" or "ii") regularises, from posterior
    means and log-variances (B, D)."""
    centred = mu - mu.mean(0, keepdim=True)  # (B, D)
    cov = centred.T @ centred / mu.shape[0]  # (D, D)
    if dip_type == "ii":
        cov = cov + torch.diag(logvar.exp().mean(0))
    elif dip_type != "i":
        raise ValueError(f"dip_type={dip_type!r} is not 'i' or 'ii'")
    return cov


def dip_penalty(cov: torch.Tensor, *, lambda_od: float, lambda_d: float) -> torch.Tensor:
    """λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)² of a covariance C (D, D)."""
    diagonal = torch.diagonal(cov)
    off_diagonal = cov - torch.diag(diagonal)
    return lambda_od * off_diagonal.square().sum() + lambda_d * (diagonal - 1.0).square().sum()


def dip_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    kl_weight: float,
    dataset_size: int | None,
    generator: torch.Generator | None,
) -> LossTerms:
    """DIP-VAE loss terms of the batch x (B, C, H, W): recon + w·KL + penalty, w the warm-up's
    KL weight; ``kl`` is the closed-form KL, so ``neg_elbo`` is the true −ELBO."""
    del dataset_size  # the penalty needs only the batch
    cfg = model.cfg
    terms = gaussian_terms(model, x, mu, logvar, generator)
    assert cfg.dip_lambda_d is not None  # ModelConfig resolves it for dip-vae
    penalty = dip_penalty(
        dip_covariance(mu, logvar, cfg.dip_type),
        lambda_od=cfg.dip_lambda_od,
        lambda_d=cfg.dip_lambda_d,
    )
    return terms.with_loss(terms.recon + kl_weight * terms.kl + penalty)
