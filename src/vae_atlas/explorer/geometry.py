"""Posterior shapes in latent space, as the explorer draws them.

* The 1-σ ellipse of a diagonal Gaussian q(z|x) = N(μ, diag σ²) seen through a linear map
  ``A`` (2, D): the projected covariance ``A diag(σ²) Aᵀ`` and its eigen-decomposition.
"""

from __future__ import annotations

import numpy as np


def projected_ellipse(
    mu_xy: np.ndarray, sigma: np.ndarray, axes: np.ndarray
) -> tuple[float, float, float, float, float]:
    """The 1-σ ellipse (cx, cy, rx, ry, angle) of N(μ, diag σ²) on the map ``p = A z + const``.

    ``mu_xy`` (2,) is μ's map position, ``sigma`` (D,) the posterior σ, ``axes`` A (2, D).
    """
    cov = (axes * sigma**2) @ axes.T  # (2, 2)
    vals, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    vals = np.maximum(vals, 0.0)
    major = vecs[:, 1]
    angle = float(np.arctan2(major[1], major[0]))
    return float(mu_xy[0]), float(mu_xy[1]), float(np.sqrt(vals[1])), float(np.sqrt(vals[0])), angle


def posterior_samples(
    mu: np.ndarray, sigma: np.ndarray | None, n: int, seed: int = 0
) -> np.ndarray:
    """``n`` draws (n, D) from N(μ, diag σ²) with a fixed seed (just μ when σ is None)."""
    mu = np.asarray(mu, dtype=np.float64)
    if sigma is None:
        return mu[None, :]
    eps = np.random.default_rng(seed).standard_normal((n, mu.shape[0]))
    return mu + eps * sigma
