"""Observation models p(x | z) for pixels in [0, 1], log-likelihoods in nats per image.

* Bernoulli: the decoder outputs logits; ``log p = -BCEWithLogits(logits, x)`` summed over pixels.
  For grey-level (non-binary) x this is the usual unnormalised cross-entropy, as in Kingma &
  Welling (2014); for dynamically binarised data it is an exact log-likelihood.
* Gaussian: the decoder outputs an unconstrained value squashed by a sigmoid to the mean
  μ ∈ (0, 1); ``log p = Σ -½((x-μ)/σ)² - log σ - ½ log 2π``. σ is fixed or a learned scalar.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class BernoulliNLL(torch.autograd.Function):
    """Per-image Bernoulli negative log-likelihood from logits ℓ: Σ_pixels softplus(ℓ) − x·ℓ,
    images x and logits (B, ...) -> (B,).

    The same function as ``binary_cross_entropy_with_logits(ℓ, x).flatten(1).sum(1)``, with its
    gradient written out: ∂/∂ℓ = σ(ℓ) − x, ∂/∂x = −ℓ. It runs in three element-wise passes
    forward and three backward, where the library's loss keeps a log-sigmoid buffer, a 1 − x
    temporary, and in the backward materialises the per-image gradient over every pixel. The
    logit gradient is computed as the library computes it, (σ(ℓ) − x) times the incoming
    gradient, so training steps are unchanged; the value differs by float rounding only.
    """

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits, x)
        nll = F.softplus(logits).sub_(x * logits)  # (B, ...)
        return nll.flatten(1).sum(1)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        logits, x = ctx.saved_tensors
        per_image = grad.view(-1, *([1] * (logits.dim() - 1)))  # (B, 1, ...)
        grad_logits = grad_x = None
        if ctx.needs_input_grad[0]:
            grad_logits = torch.sigmoid(logits).sub_(x).mul_(per_image)
        if ctx.needs_input_grad[1]:
            grad_x = -logits * per_image
        return grad_logits, grad_x


class BernoulliLikelihood(nn.Module):
    """Pixel-wise Bernoulli with logits."""

    name = "bernoulli"

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-likelihood of images x (B, C, H, W) under logits params (B, C, H, W) -> (B,)."""
        return -BernoulliNLL.apply(params, x)

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
