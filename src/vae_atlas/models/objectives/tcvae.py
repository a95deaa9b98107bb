"""β-TCVAE (Chen et al. 2018): the KL term split into index-code mutual information, total
correlation and dimension-wise KL, each with its own weight.

With z_i ~ q(z | x_i) for the B images of a batch and q(z) = (1/N) Σ_n q(z | x_n) the aggregate
posterior over the N training images::

    KL(q(z|x) ‖ p(z)) = E[log q(z|x) − log q(z)]            index-code MI       (weight α)
                      + E[log q(z) − Σ_d log q(z_d)]          total correlation  (weight β)
                      + E[Σ_d log q(z_d) − log p(z)]          dimension-wise KL  (weight γ)

q(z) and each marginal q(z_d) are estimated from the batch as Σ_j w_ij q(z_i | x_j):

* minibatch weighted sampling (``mws``): every w_ij = 1/(N·B), as published. Its weights sum
  to 1/N, not 1 (the bound it comes from counts only the batches holding the sample's own
  image), so it estimates q(z_i)/N: log q(z) and each log q(z_d) read about log N too low, MI
  log N too high and the total correlation (D − 1)·log N too high. The offsets are constants,
  so the gradients are those of the batch's kernel estimate (1/B) Σ_j q(z_i | x_j).
* minibatch stratified sampling (``mss``): w_ii = 1/N for the sample's own image, and for the
  M = B − 1 others 1/M each except one, (N − M)/(N·M). The weights sum to 1 and their
  expectation over random batches is q(z_i) exactly, so log q(z) is biased only by Jensen's
  inequality, which vanishes as the batch grows.

The loss is recon + w·(KL + (α − 1)·MI + (β − 1)·TC + (γ − 1)·DWKL) with the closed-form KL and
w the warm-up's KL weight: the three sampled terms add up to the one-sample KL estimate
log q(z|x) − log p(z), whatever the estimator, so α = β = γ = 1 is exactly the VAE loss and
any other weights change it by the weighted estimates alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from vae_atlas.models.vae import LossTerms, gaussian_terms, log_normal, log_standard_normal

if TYPE_CHECKING:
    from vae_atlas.models.vae import AutoEncoder

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class KLDecomposition:
    """Batch means in nats of the three parts of the KL (Chen et al. 2018)."""

    mutual_information: torch.Tensor
    total_correlation: torch.Tensor
    dimensionwise_kl: torch.Tensor


def log_importance_weights(
    batch_size: int, dataset_size: int, estimator: str, *, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """log w_ij (B, B): the weight of q(z_i | x_j) in the estimate of q(z_i) (module docstring).

    Row i belongs to the sample drawn from image i of the batch; ``dataset_size`` N must be at
    least ``batch_size`` B (the batch is drawn from the N images)."""
    n, b = dataset_size, batch_size
    if b < 1 or n < b:
        raise ValueError(f"dataset_size={n} must be at least batch_size={b} >= 1")
    if estimator == "mws":
        return torch.full((b, b), -math.log(n * b), dtype=dtype)
    if estimator != "mss":
        raise ValueError(f"estimator={estimator!r} is not 'mss' or 'mws'")
    if b == 1:
        return torch.full((1, 1), -math.log(n), dtype=dtype)
    m = b - 1  # the other images of the batch
    weights = torch.full((b, b), 1.0 / m, dtype=dtype)
    rows = torch.arange(b)
    weights[rows, (rows + 1) % b] = (n - m) / (n * m)  # one other image per row takes the rest
    weights[rows, rows] = 1.0 / n
    return weights.log()


def log_aggregate_densities(
    z: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    dataset_size: int,
    estimator: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimates of log q(z_i) (B,) and of each log q(z_id) (B, D) for samples z (B, D) drawn
    from the posteriors N(mu, e^logvar) (B, D) of the same batch."""
    # log N(z_id; μ_jd, σ²_jd) for every pair (i, j): (B, B, D)
    diff = z.unsqueeze(1) - mu.unsqueeze(0)
    log_q = -0.5 * (
        diff.square() * torch.exp(-logvar).unsqueeze(0) + logvar.unsqueeze(0) + _LOG_2PI
    )
    log_w = log_importance_weights(z.shape[0], dataset_size, estimator).to(z)  # (B, B)
    log_qz = torch.logsumexp(log_w + log_q.sum(2), dim=1)  # (B,)
    log_qz_dims = torch.logsumexp(log_w.unsqueeze(2) + log_q, dim=1)  # (B, D)
    return log_qz, log_qz_dims


def decompose_kl(
    z: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    dataset_size: int,
    estimator: str = "mss",
) -> KLDecomposition:
    """MI, total correlation and dimension-wise KL (batch means, nats) of samples z (B, D) from
    the posteriors N(mu, e^logvar) (B, D), with the ``estimator`` of log q(z) (see the module
    docstring for its bias). The three add up to the batch mean of log q(z|x) − log p(z)."""
    log_qz, log_qz_dims = log_aggregate_densities(
        z, mu, logvar, dataset_size=dataset_size, estimator=estimator
    )
    log_qz_x = log_normal(z, mu, logvar)  # (B,)
    log_prod = log_qz_dims.sum(1)  # (B,)
    return KLDecomposition(
        mutual_information=(log_qz_x - log_qz).mean(),
        total_correlation=(log_qz - log_prod).mean(),
        dimensionwise_kl=(log_prod - log_standard_normal(z)).mean(),
    )


def tcvae_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    kl_weight: float,
    dataset_size: int | None,
    generator: torch.Generator | None,
) -> LossTerms:
    """β-TCVAE loss terms of the batch x (B, C, H, W); ``kl`` stays the closed-form KL, so
    ``neg_elbo`` is the true −ELBO. ``dataset_size`` is the number of training images."""
    if dataset_size is None:
        raise ValueError("the beta-tcvae loss needs dataset_size, the number of training images")
    cfg = model.cfg
    terms = gaussian_terms(model, x, mu, logvar, generator)
    parts = decompose_kl(terms.z, mu, logvar, dataset_size=dataset_size, estimator=cfg.tc_estimator)
    penalty = (
        terms.kl
        + (cfg.tc_alpha - 1.0) * parts.mutual_information
        + (cfg.tc_beta - 1.0) * parts.total_correlation
        + (cfg.tc_gamma - 1.0) * parts.dimensionwise_kl
    )
    return terms.with_loss(terms.recon + kl_weight * penalty)
