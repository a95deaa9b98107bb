"""KL per latent dimension against the prior the model itself has
(:func:`vae_atlas.models.prior_of`): the number behind "active dimensions" and posterior collapse
(Burda et al. 2016), averaged over a set of inputs.

* N(0, I) (a VAE, a β-VAE, …, and a hierarchical model's top level): per input
  KL_d = ½(μ_d² + σ_d² − 1 − log σ_d²), in closed form.
* A mixture prior p(z) = (1/K) Σ_k N(z; m_k, diag s_k²) (the VampPrior, Tomczak & Welling 2018)
  does not factorise, so dimension d is measured against its exact marginal
  p_d(z_d) = (1/K) Σ_k N(z_d; m_kd, s_kd²):

      KL_d = E_q(z_d|x)[log q(z_d|x) − log p_d(z_d)] = −½ log(2πe σ_d²) − E_q[log p_d(z_d)],

  the entropy in closed form, the cross term by Monte Carlo over ``n_draws`` draws per input.
  These do not sum to KL(q(z|x) ‖ p(z)); ``total`` is that KL, by Monte Carlo at the same draws.
* A hierarchical model's bottom level (Sønderby et al. 2016): KL_d =
  E_q(z2|x) KL(q(z1_d|x, z2) ‖ p(z1_d|z2)), in closed form at each of ``n_draws`` draws of z2:
  the bottom level's part of the ELBO's KL, so they sum to it.

``stderr`` is the Monte Carlo standard error of the draws alone, the inputs held fixed:
√(Σ_n Var_n / S) / N for N inputs with S draws each, Var_n the variance of input n's draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import LatentSet
from vae_atlas.models.hierarchical import has_levels
from vae_atlas.models.inference import eval_mode, model_device
from vae_atlas.models.priors import STANDARD_LABEL, MixturePrior, mixture_log_prob, own_prior

DRAWS = 16
"""Monte Carlo draws per input where the KL has no closed form."""

_CHUNK = 256  # inputs per batch: bounds memory at CHUNK · DRAWS · K per dimension
_LOG_2PI_E = math.log(2.0 * math.pi) + 1.0


@dataclass(frozen=True)
class PriorKL:
    """Mean KL per dimension ``per_dim`` (D,) and in all ``total`` (nats) of a set of inputs'
    posteriors against ``against`` (the prior, in words); ``stderr`` (D,) and ``n_draws`` are
    None where the KL is exact (closed form), else the Monte Carlo standard error and draws;
    ``additive``: whether ``per_dim`` sums to ``total`` (not for a mixture prior, which does
    not factorise)."""

    per_dim: np.ndarray
    total: float
    against: str
    stderr: np.ndarray | None = None
    n_draws: int | None = None
    additive: bool = True

    def describe(self) -> str:
        """How the numbers were measured, for a note or a caption."""
        if self.stderr is None:
            return f"against {self.against}, in closed form"
        return (
            f"against {self.against}, Monte Carlo with {self.n_draws} draws per input "
            f"(standard error at most {float(self.stderr.max()):.2g} nats per dimension)"
        )


def prior_kl(
    model: nn.Module,
    latents: LatentSet,
    images: np.ndarray | torch.Tensor | None = None,
    *,
    n_draws: int = DRAWS,
    seed: int = 0,
) -> PriorKL:
    """The mean KL per dimension of ``latents`` (N, D; the model's encodings of ``images``)
    against ``model``'s own prior (see the module docstring). ``images`` (N, C, H, W) in [0, 1]
    are read only for a hierarchical model's bottom level, whose posterior depends on a draw of
    the top level."""
    if latents.logvar is None:
        raise ValueError("KL per dimension needs a posterior: this encoder returns points")
    if n_draws < 2:
        raise ValueError(f"n_draws={n_draws} must be >= 2 (a standard error needs two draws)")
    if has_levels(model) and model.level_name == "bottom":
        if images is None:
            raise ValueError("the bottom level's KL needs the images (its q(z1|x, z2) reads x)")
        return bottom_level_kl(model, images, n_draws=n_draws, seed=seed)
    prior = own_prior(model)
    if prior is None:
        mu, logvar = latents.mu, latents.logvar
        per_dim = (0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)).mean(axis=0)
        return PriorKL(per_dim, float(per_dim.sum()), STANDARD_LABEL)
    return mixture_kl(latents, prior, n_draws=n_draws, seed=seed)


MAX_SAMPLED_INPUTS = 10_000  # inputs a Monte Carlo KL is averaged over when a set is larger


def kl_per_dim_of(
    model: nn.Module,
    latents: LatentSet,
    images: torch.Tensor,
    *,
    max_inputs: int = MAX_SAMPLED_INPUTS,
    seed: int = 0,
) -> np.ndarray:
    """Mean KL per dimension (D,) of ``latents`` against ``model``'s own prior, for ranking and
    marking dimensions: :func:`prior_kl` in closed form over every input where it has one (N(0, I),
    a top level), else by Monte Carlo over at most ``max_inputs`` evenly spaced inputs (a mean over
    inputs, so a subset estimates it). ``images`` are the inputs, uint8 (N, C, H, W). Zeros for a
    deterministic encoder, which has no posterior to compare."""
    if latents.logvar is None:
        return np.zeros(latents.latent_dim)
    sampled = own_prior(model) is not None or (has_levels(model) and model.level_name == "bottom")
    if not sampled or len(latents) <= max_inputs:
        return prior_kl(model, latents, images.float() / 255.0, seed=seed).per_dim
    keep = np.unique(np.linspace(0, len(latents) - 1, max_inputs).round().astype(np.int64))
    subset = LatentSet(latents.mu[keep], latents.logvar[keep])
    return prior_kl(model, subset, images[keep].float() / 255.0, seed=seed).per_dim


def mixture_kl(
    latents: LatentSet, prior: MixturePrior, *, n_draws: int = DRAWS, seed: int = 0
) -> PriorKL:
    """KL per dimension against each dimension's exact marginal of the mixture ``prior``, and
    the total KL(q(z|x) ‖ p(z)), by Monte Carlo (see the module docstring)."""
    assert latents.logvar is not None  # prior_kl refuses point encoders
    gen = torch.Generator().manual_seed(seed)
    means, logvars = prior.means.double().cpu(), prior.logvars.double().cpu()  # (K, D)
    n, d = latents.mu.shape
    sums, variances, total = np.zeros(d), np.zeros(d), 0.0
    for start in range(0, n, _CHUNK):
        mu = torch.as_tensor(latents.mu[start : start + _CHUNK], dtype=torch.float64)  # (B, D)
        logvar = torch.as_tensor(latents.logvar[start : start + _CHUNK], dtype=torch.float64)
        eps = torch.randn((len(mu), n_draws, d), generator=gen, dtype=torch.float64)
        z = mu[:, None] + eps * torch.exp(0.5 * logvar)[:, None]  # (B, S, D)
        log_p_dims = torch.stack(
            [mixture_log_prob(z[..., i : i + 1], means[:, i : i + 1], logvars[:, i : i + 1])
             for i in range(d)], dim=-1,
        )  # (B, S, D)  # fmt: skip
        neg_entropy = -0.5 * (_LOG_2PI_E + logvar)  # (B, D)
        draws = neg_entropy[:, None] - log_p_dims  # (B, S, D)
        sums += draws.mean(1).sum(0).numpy()
        variances += (draws.var(1) / n_draws).sum(0).numpy()
        total += float((neg_entropy.sum(1)[:, None] - mixture_log_prob(z, means, logvars)).sum())
    stderr = np.sqrt(variances) / n
    return PriorKL(sums / n, total / (n * n_draws), prior.label, stderr, n_draws, additive=False)


def gaussian_kl(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) per element:
    ½(log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1)."""
    return 0.5 * (
        logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).square()) / logvar_p.exp() - 1.0
    )


def bottom_level_kl(
    model: nn.Module,
    images: np.ndarray | torch.Tensor,
    *,
    n_draws: int = DRAWS,
    seed: int = 0,
) -> PriorKL:
    """A hierarchical model's bottom level: E_q(z2|x) KL(q(z1_d|x, z2) ‖ p(z1_d|z2)) per
    dimension, in closed form at ``n_draws`` draws of z2 per image of ``images``
    (N, C, H, W) in [0, 1]."""
    device = model_device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    x_all = torch.as_tensor(images)
    n = len(x_all)
    sums, variances = np.zeros(model.lower_dim), np.zeros(model.lower_dim)
    with torch.no_grad(), eval_mode(model):
        for start in range(0, n, _CHUNK):
            x = x_all[start : start + _CHUNK].to(device=device, dtype=torch.float32)
            p = model.infer(x, gen, n_draws)  # image-major rows (B·S, ...)
            kl = gaussian_kl(
                *(t.double() for t in (p.mu1, p.logvar1, p.prior_mu1, p.prior_logvar1))
            ).view(len(x), n_draws, -1)  # (B, S, D1)
            sums += kl.mean(1).sum(0).cpu().numpy()
            variances += (kl.var(1) / n_draws).sum(0).cpu().numpy()
    per_dim, stderr = sums / n, np.sqrt(variances) / n
    against = "p(z1|z2), the bottom level's conditional prior, at draws of z2 ~ q(z2|x)"
    return PriorKL(per_dim, float(per_dim.sum()), against, stderr, n_draws)
