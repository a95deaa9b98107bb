"""Observation models p(x | z) for pixels in [0, 1], log-likelihoods in nats per image.

* Bernoulli: the decoder outputs logits; ``log p = -BCEWithLogits(logits, x)`` summed over pixels.
  For grey-level (non-binary) x this is the usual unnormalised cross-entropy, as in Kingma &
  Welling (2014); for dynamically binarised data it is an exact log-likelihood.
* Gaussian: the decoder outputs an unconstrained value squashed by a sigmoid to the mean
  μ ∈ (0, 1); ``log p = Σ -½((x-μ)/σ)² - log σ - ½ log 2π``. σ is fixed or a learned scalar.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class BernoulliLikelihood(nn.Module):
    """Pixel-wise Bernoulli with logits."""

    name = "bernoulli"

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-likelihood of images x (B, C, H, W) under logits params (B, C, H, W) -> (B,)."""
        nll = F.binary_cross_entropy_with_logits(params, x, reduction="none")
        return -nll.flatten(1).sum(1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(params), generator=generator)


class GaussianLikelihood(nn.Module):
    """Pixel-wise Gaussian, mean sigmoid(params), fixed or learned scalar σ."""

    name = "gaussian"

    def __init__(self, sigma: float = 0.1, learn_sigma: bool = False) -> None:
        super().__init__()
        log_sigma = torch.tensor(math.log(sigma), dtype=torch.float32)
        if learn_sigma:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)

    @property
    def sigma(self) -> float:
        return float(self.log_sigma.exp())

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-likelihood of images x (B, C, H, W) given pre-sigmoid means (B, C, H, W) -> (B,)."""
        mu = torch.sigmoid(params)
        z = (x - mu) * torch.exp(-self.log_sigma)
        per_pixel = -0.5 * z.square() - self.log_sigma - _HALF_LOG_2PI
        return per_pixel.flatten(1).sum(1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        noise = torch.randn(params.shape, generator=generator, device=params.device)
        return torch.sigmoid(params) + noise * self.log_sigma.exp()


def build_likelihood(name: str, *, sigma: float = 0.1, learn_sigma: bool = False) -> nn.Module:
    if name == "bernoulli":
        return BernoulliLikelihood()
    if name == "gaussian":
        return GaussianLikelihood(sigma, learn_sigma)
    raise ValueError(f"likelihood={name!r} is not 'bernoulli' or 'gaussian'")
