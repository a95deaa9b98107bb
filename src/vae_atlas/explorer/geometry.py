"""Paths and posterior shapes in latent space, as the explorer draws them.

* Linear interpolation and spherical linear interpolation (slerp, Shoemake 1985), which White
  (2016, "Sampling Generative Networks") recommends for Gaussian latent spaces because it keeps
  the path at a typical distance from the origin.
* The 1-σ ellipse of a diagonal Gaussian q(z|x) = N(μ, diag σ²) seen through a linear map
  ``A`` (2, D): the projected covariance ``A diag(σ²) Aᵀ`` and its eigen-decomposition.
"""

from __future__ import annotations

import numpy as np


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, method: str = "linear") -> np.ndarray:
    """Codes (steps, D) from ``a`` to ``b`` inclusive, linearly or along the great circle.

    Spherical interpolation falls back to linear when either end is at the origin or the two
    are (anti-)parallel, where the great circle is undefined.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    if method == "linear":
        return (1.0 - t) * a + t * b
    if method != "spherical":
        raise ValueError(f"method={method!r} is not 'linear' or 'spherical'")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return (1.0 - t) * a + t * b
    cos = float(np.clip(a @ b / (na * nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return (1.0 - t) * a + t * b
    return (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


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
