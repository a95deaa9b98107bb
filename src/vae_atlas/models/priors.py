"""Priors richer than N(0, I): the VampPrior (Tomczak & Welling 2018, "VAE with a VampPrior"), and
the one seam, :func:`prior_of`, through which the analysis reads any model's prior.

Every prior here is an equal-weight mixture of diagonal Gaussians,

    p(z) = (1/K) Σ_k N(z; m_k, diag exp(v_k)),

N(0, I) being the one-component case. The VampPrior's components are the encoder's posteriors of
K learned pseudo-inputs u_k, p(z) = (1/K) Σ_k q(z | u_k). One representation gives the
log-density, sampling, and the exact marginal on any plane of two latent dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.data.dataset import pixels_as_float
from vae_atlas.models.inference import eval_mode
from vae_atlas.models.vae import (
    AutoEncoder,
    LossTerms,
    kl_penalty,
    log_normal,
    reparameterize,
    widened,
)

_LOG_2PI = math.log(2.0 * math.pi)
STANDARD_LABEL = "the prior N(0, I)"


def mixture_log_prob(z: torch.Tensor, means: torch.Tensor, logvars: torch.Tensor) -> torch.Tensor:
    """log (1/K) Σ_k N(z; m_k, diag exp(v_k)) for codes z (..., D) -> (...).

    The squared distances are expanded as Σ z²/v − 2 z·m/v + Σ m²/v, two matrix products, so
    memory is (..., K) rather than (..., K, D).
    """
    inv_var = torch.exp(-logvars)  # (K, D)
    const = (means.square() * inv_var + logvars).sum(-1) + means.shape[1] * _LOG_2PI  # (K,)
    quad = z.square() @ inv_var.T - 2.0 * z @ (means * inv_var).T  # (..., K)
    log_comp = -0.5 * (quad + const)
    return torch.logsumexp(log_comp, dim=-1) - math.log(means.shape[0])


@dataclass(frozen=True)
class MixturePrior:
    """p(z) = (1/K) Σ_k N(z; ``means[k]``, diag exp(``logvars[k]``)); means, logvars (K, D).

    ``label`` says what it is in words (for captions); ``standard`` is True only for N(0, I),
    whose closed forms (the analytic KL, the established sampling streams) then apply.
    """

    means: torch.Tensor
    logvars: torch.Tensor
    label: str
    standard: bool = False

    @property
    def latent_dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) for codes (..., D) -> (...)."""
        return mixture_log_prob(z, self.means.to(z), self.logvars.to(z))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws (n, D): a component chosen uniformly, then its Gaussian."""
        return sample_mixture(self.means, self.logvars, n, generator)


def sample_mixture(
    means: torch.Tensor, logvars: torch.Tensor, n: int, generator: torch.Generator | None
) -> torch.Tensor:
    """n draws (n, D) from the equal-weight mixture of ``means``, ``logvars`` (K, D)."""
    pick = torch.randint(means.shape[0], (n,), generator=generator, device=means.device)
    eps = torch.randn(
        (n, means.shape[1]), generator=generator, device=means.device, dtype=means.dtype
    )
    return means[pick] + eps * torch.exp(0.5 * logvars[pick])


def standard_normal(latent_dim: int) -> MixturePrior:
    """N(0, I) in ``latent_dim`` dimensions, as a one-component mixture."""
    zeros = torch.zeros(1, latent_dim)
    return MixturePrior(zeros, zeros.clone(), STANDARD_LABEL, standard=True)


def prior_of(model: nn.Module) -> MixturePrior:
    """The prior of ``model``'s latent space as the analysis should use it, detached: its own
    (:func:`own_prior`), else N(0, I)."""
    return own_prior(model) or standard_normal(int(model.latent_dim))


def own_prior(model: nn.Module) -> MixturePrior | None:
    """The prior of a model that defines ``prior_distribution() -> MixturePrior`` (the VampPrior
    model, the hierarchical model's levels), detached, or None when its prior is N(0, I) —
    every other model's, a user's model whose latent size is not known included."""
    make = getattr(model, "prior_distribution", None)
    if make is None:
        return None
    with torch.no_grad(), eval_mode(model):
        prior = make()
    return None if prior.standard else prior


class ElboTermsLoss:
    """The loss of a model whose ``elbo_terms(x, generator)`` return the per-image
    reconstruction NLL (B,), KL (B,) and KL per dimension (B, D): :func:`terms_to_loss` of
    them. Listed before the model's base class, so it replaces the base's loss."""

    elbo_terms: Callable[
        [torch.Tensor, torch.Generator | None], tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ]

    def loss(
        self,
        x: torch.Tensor,
        *,
        kl_weight: float = 1.0,
        capacity: float = 0.0,
        k: int = 1,
        generator: torch.Generator | None = None,
    ) -> LossTerms:
        """recon + β·KL, or β·|KL − C| with a capacity C > 0, of the batch x (B, C, H, W)."""
        del k
        return terms_to_loss(*self.elbo_terms(x, generator), kl_weight, capacity)


class VampPriorVAE(ElboTermsLoss, AutoEncoder):
    """A VAE whose prior is the VampPrior over ``cfg.pseudo_inputs`` learned pseudo-inputs.

    The pseudo-inputs u_k (K, C, H, W) are parameters seen through a clamp to [0, 1] (the paper's
    hard-tanh), so they stay images. They start as noise and :meth:`init_pseudo_inputs` sets
    them to training images (the training loop does so before the first step). The KL of the
    loss is the single-sample estimate log q(z|x) − log p(z) at the reparameterised z.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(cfg)
        noise = 0.5 + 0.1 * torch.randn(cfg.pseudo_inputs, *cfg.image_shape)
        self.pseudo_inputs = nn.Parameter(noise)  # (K, C, H, W)

    @torch.no_grad()
    def init_pseudo_inputs(self, images: torch.Tensor, generator: torch.Generator) -> None:
        """Set the pseudo-inputs to K of ``images`` (N, C, H, W) — uint8 pixels or floats in
        [0, 1] — drawn without replacement (with replacement when there are fewer than K)."""
        k, n = self.pseudo_inputs.shape[0], images.shape[0]
        if n >= k:
            pick = torch.randperm(n, generator=generator)[:k]
        else:
            pick = torch.randint(n, (k,), generator=generator)
        self.pseudo_inputs.copy_(pixels_as_float(images[pick]).to(self.pseudo_inputs))

    def prior_components(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The K components' means and log-variances (K, D): q(z | u_k)."""
        mu, logvar = self.encode(self.pseudo_inputs.clamp(0.0, 1.0))
        return widened(mu), widened(logvar)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) for codes (B, D) -> (B,), differentiable in the pseudo-inputs."""
        return mixture_log_prob(z, *self.prior_components())

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes (n, D) drawn from the VampPrior."""
        with torch.no_grad():
            return sample_mixture(*self.prior_components(), n, generator)

    def prior_distribution(self) -> MixturePrior:
        means, logvars = self.prior_components()
        k = means.shape[0]
        label = f"the learned VampPrior ({k} pseudo-input{'s' if k > 1 else ''})"
        return MixturePrior(means.detach(), logvars.detach(), label)

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per image, at one reparameterised z: reconstruction NLL (B,), the Monte Carlo KL
        log q(z|x) − log p(z) (B,), and :func:`marginal_kl_per_dim` (B, D)."""
        mu, logvar = (widened(t) for t in self.encode(x))
        z = reparameterize(mu, logvar, generator)
        recon = -self.log_px_given_z(x, z)
        means, logvars = self.prior_components()
        kl = log_normal(z, mu, logvar) - mixture_log_prob(z, means, logvars)
        return recon, kl, marginal_kl_per_dim(z, mu, logvar, means, logvars)


def terms_to_loss(
    recon: torch.Tensor,
    kl: torch.Tensor,
    kl_dims: torch.Tensor,
    kl_weight: float,
    capacity: float,
) -> LossTerms:
    """Batch means of per-image ``recon``, ``kl`` (B,) and ``kl_dims`` (B, D) as the loss
    recon + β·KL, or recon + β·|KL − C| for a capacity C > 0 (as :func:`vae_loss`)."""
    recon_mean, kl_mean = recon.mean(), kl.mean()
    return LossTerms(
        loss=recon_mean + kl_weight * kl_penalty(kl_mean, capacity),
        recon=recon_mean,
        kl=kl_mean,
        kl_per_dim=kl_dims.mean(0),
    )


def marginal_kl_per_dim(
    z: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    means: torch.Tensor,
    logvars: torch.Tensor,
) -> torch.Tensor:
    """Per dimension d, log q(z_d|x) − log p_d(z_d) (B, D), with p_d the mixture's exact marginal
    in dimension d: how far each dimension's posterior sits from the prior there. A mixture
    does not factorise, so these do not sum to the KL."""
    log_q = -0.5 * ((z - mu).square() * torch.exp(-logvar) + logvar + _LOG_2PI)  # (B, D)
    cols = [
        mixture_log_prob(z[:, d : d + 1], means[:, d : d + 1], logvars[:, d : d + 1])
        for d in range(z.shape[1])
    ]
    return log_q - torch.stack(cols, dim=1)
