"""A linear-Gaussian latent model whose log p(x) is exact, for testing likelihood estimators.

Prior z ~ N(0, I_D); decoder x = W z + b + N(0, σ² I_P), so x ~ N(b, W Wᵀ + σ² I) exactly. The
encoder is any affine Gaussian q(z|x) = N(A x + c, diag(exp(logvar))); :func:`exact_posterior`
gives the true posterior's mean map (its covariance is not diagonal in general, so the IWAE gap is
only exactly zero when W has orthogonal columns).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class LinearGaussianModel(nn.Module):
    """Satisfies the vae-atlas protocol: encode -> (mu, logvar), decode, log_px_given_z."""

    def __init__(
        self,
        w: torch.Tensor,
        b: torch.Tensor,
        sigma: float,
        enc_a: torch.Tensor,
        enc_c: torch.Tensor,
        enc_logvar: torch.Tensor,
    ) -> None:
        super().__init__()
        self.latent_dim = w.shape[1]
        self.w, self.b, self.sigma = nn.Parameter(w.clone()), nn.Parameter(b.clone()), sigma
        self.enc_a, self.enc_c = nn.Parameter(enc_a.clone()), nn.Parameter(enc_c.clone())
        self.enc_logvar = nn.Parameter(enc_logvar.clone())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = x.flatten(1)  # (B, P)
        mu = flat @ self.enc_a.T + self.enc_c
        return mu, self.enc_logvar.expand_as(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.w.T + self.b).view(-1, 1, 1, self.w.shape[0])

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        mean = z @ self.w.T + self.b  # (B, P)
        resid = (x.flatten(1) - mean) / self.sigma
        p = mean.shape[1]
        return -0.5 * resid.square().sum(1) - p * (
            math.log(self.sigma) + 0.5 * math.log(2 * math.pi)
        )

    # -- closed forms --------------------------------------------------------------------------
    def exact_log_px(self, x: torch.Tensor) -> np.ndarray:
        """log N(x; b, W Wᵀ + σ² I) per image (N,), float64."""
        from scipy.stats import multivariate_normal

        w = self.w.detach().double().numpy()
        cov = w @ w.T + self.sigma**2 * np.eye(w.shape[0])
        dist = multivariate_normal(self.b.detach().double().numpy(), cov)
        return np.atleast_1d(dist.logpdf(x.flatten(1).double().numpy()))

    def exact_elbo(self, x: torch.Tensor) -> np.ndarray:
        """ELBO = E_q log p(x|z) − KL(q ‖ p) in closed form per image (N,), float64."""
        mu, logvar = (t.detach().double() for t in self.encode(x))
        w, b = self.w.detach().double(), self.b.detach().double()
        var = logvar.exp()  # (N, D)
        mean = mu @ w.T + b
        p = w.shape[0]
        s2 = self.sigma**2
        expected = -0.5 * (
            (x.flatten(1).double() - mean).square().sum(1) + (var @ w.square().sum(0))
        ) / s2 - 0.5 * p * math.log(2 * math.pi * s2)
        kl = 0.5 * (mu.square() + var - 1 - logvar).sum(1)
        return (expected - kl).numpy()


def make_linear_gaussian(
    *,
    data_dim: int = 4,
    latent_dim: int = 2,
    sigma: float = 0.5,
    seed: int = 0,
    encoder: str = "mismatched",
) -> LinearGaussianModel:
    """A random model. ``encoder='exact'`` uses the true posterior (W with orthogonal columns, so
    the posterior covariance is diagonal and every importance weight equals p(x))."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(data_dim, latent_dim, generator=g)
    if encoder == "exact":
        q, _ = torch.linalg.qr(w)
        w = q * torch.tensor([1.5, 0.8, 1.1, 0.6][:latent_dim])
    b = torch.randn(data_dim, generator=g) * 0.3
    # true posterior: Σ = (I + WᵀW/σ²)⁻¹, μ = Σ Wᵀ (x − b)/σ²
    post_cov = torch.linalg.inv(torch.eye(latent_dim) + w.T @ w / sigma**2)
    a = post_cov @ w.T / sigma**2
    c = -a @ b
    logvar = torch.log(torch.diagonal(post_cov))
    if encoder == "mismatched":  # a plausible but imperfect amortised encoder
        a = a * 0.9 + 0.05 * torch.randn(a.shape, generator=g)
        logvar = logvar + 0.5
    return LinearGaussianModel(w, b, sigma, a, c, logvar)


def sample_x(model: LinearGaussianModel, n: int, seed: int = 1) -> torch.Tensor:
    """n draws from the model's exact marginal, as float32 images (n, 1, 1, P)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = torch.randn(n, model.latent_dim, generator=g)
        noise = torch.randn(n, model.w.shape[0], generator=g) * model.sigma
        x = z @ model.w.T + model.b + noise
    return x.view(n, 1, 1, -1).float()
