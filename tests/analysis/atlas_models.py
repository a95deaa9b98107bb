"""A hand-made linear-Gaussian "model" for known-answer tests of the atlas analyses.

Images are (N, 1, 1, P) vectors. ``encode`` is an affine map to the mean and a constant
log-variance per dimension; ``decode`` is z Wᵀ + b. Because the decoder is linear, decodings of
grids, paths and traversals are computable by hand.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class LinearAtlasModel(nn.Module):
    def __init__(
        self,
        w: np.ndarray,
        b: np.ndarray,
        a: np.ndarray,
        logvar: np.ndarray | None,
        sigma: float = 0.5,
    ) -> None:
        super().__init__()
        self.latent_dim = w.shape[1]
        self.w = nn.Parameter(torch.as_tensor(w, dtype=torch.float64))
        self.b = nn.Parameter(torch.as_tensor(b, dtype=torch.float64))
        self.a = nn.Parameter(torch.as_tensor(a, dtype=torch.float64))
        self.logvar = None if logvar is None else torch.as_tensor(logvar, dtype=torch.float64)
        self.sigma = sigma

    def encode(self, x: torch.Tensor):
        mu = x.flatten(1).double() @ self.a.T  # (B, D)
        if self.logvar is None:
            return mu.float()
        return mu.float(), self.logvar.expand_as(mu).float()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z.double() @ self.w.T + self.b).float().view(z.shape[0], 1, 1, -1)

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        mean = z.double() @ self.w.T + self.b
        resid = (x.flatten(1).double() - mean) / self.sigma
        p = mean.shape[1]
        return (
            -0.5 * resid.square().sum(1) - p * math.log(self.sigma * math.sqrt(2 * math.pi))
        ).float()


def make_model(
    latent_dim: int = 2, data_dim: int = 6, *, logvar=None, seed: int = 0, stochastic: bool = True
) -> LinearAtlasModel:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((data_dim, latent_dim))
    b = rng.standard_normal(data_dim) * 0.1
    a = np.linalg.pinv(w)  # encoder inverts the decoder on its range
    if stochastic and logvar is None:
        logvar = np.log(np.linspace(0.3, 0.9, latent_dim))
    return LinearAtlasModel(w, b, a, logvar if stochastic else None)
