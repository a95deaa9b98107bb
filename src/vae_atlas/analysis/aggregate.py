"""The aggregate posterior q(z) = (1/N) Σ_n q(z | x_n) against the prior p(z) = N(0, I)
(Makhzani et al. 2016; Hoffman & Johnson 2016, "ELBO surgery").

Where the prior has mass but q(z) has almost none lie the "holes": prior samples drawn there
decode to inputs the decoder never saw. This module evaluates both densities on a plane of two
latent dimensions (the marginal of each is exact there) and measures the prior mass in the holes.
For a plain autoencoder q(z|x) is a point, so q(z) is estimated by a Gaussian kernel density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOLE_RATIO = 0.1
"""A point of the plane is in a hole when q(z) < HOLE_RATIO · p(z)."""


@dataclass(frozen=True)
class AggregateDensity:
    """Densities on a ``size``×``size`` grid over [-extent, extent]² in latent dims ``dims``.

    ``q`` and ``p`` (size, size) are indexed [row=z_b, column=z_a] (ascending); ``hole_mass`` is
    the prior probability mass (within the window) where q < HOLE_RATIO · p; ``outside`` is the
    fraction of encoded means outside the window.
    """

    dims: tuple[int, int]
    axis: np.ndarray
    q: np.ndarray
    p: np.ndarray
    hole_mass: float
    outside: float
    method: str

    @property
    def holes(self) -> np.ndarray:
        return self.q < HOLE_RATIO * self.p


def aggregate_density(
    mu: np.ndarray,
    logvar: np.ndarray | None,
    *,
    dims: tuple[int, int] = (0, 1),
    extent: float = 4.0,
    size: int = 81,
    max_points: int = 4000,
    seed: int = 0,
) -> AggregateDensity:
    """Evaluate q(z) and p(z) on the plane of latent dims ``dims`` (a 1-D space is padded).

    At most ``max_points`` inputs (a seeded subsample) form the mixture, for bounded time.
    """
    mu = np.asarray(mu, dtype=np.float64)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(mu), size=min(max_points, len(mu)), replace=False)
    centers = _plane(mu[pick], dims)  # (M, 2)
    axis = np.linspace(-extent, extent, size)
    gx, gy = np.meshgrid(axis, axis)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (G, 2)
    if logvar is not None:
        sigmas = np.exp(0.5 * _plane(np.asarray(logvar)[pick], dims, pad=0.0))
        method = "mixture of the posteriors"
    else:
        sigmas = np.full_like(centers, _bandwidth(centers, extent))
        method = "kernel density of the codes (plain autoencoder)"
    q = _mixture_density(points, centers, sigmas).reshape(size, size)
    p = np.exp(-0.5 * (gx**2 + gy**2)) / (2 * np.pi)
    cell = (axis[1] - axis[0]) ** 2
    hole_mass = float(np.sum(p[q < HOLE_RATIO * p]) * cell)
    plane = _plane(mu, dims)
    outside = float(np.mean(np.any(np.abs(plane) > extent, axis=1)))
    return AggregateDensity(dims, axis, q, p, hole_mass, outside, method)


def _plane(values: np.ndarray, dims: tuple[int, int], pad: float = 0.0) -> np.ndarray:
    if values.shape[1] == 1:
        return np.concatenate([values, np.full_like(values, pad)], axis=1)
    return values[:, list(dims)]


KDE_MAX_BANDWIDTH = 0.25
"""Largest kernel width (prior units) for a plain autoencoder's codes: Scott's rule on codes that
are spread over tens of units would smooth over every hole."""


def _bandwidth(points: np.ndarray, extent: float) -> float:
    """Scott's rule on the codes inside the window, capped at ``KDE_MAX_BANDWIDTH``."""
    inside = points[np.all(np.abs(points) <= extent, axis=1)]
    if len(inside) < 2:
        return KDE_MAX_BANDWIDTH
    scott = float(np.mean(np.std(inside, axis=0)) * len(inside) ** (-1.0 / 6.0))
    return float(np.clip(scott, 1e-3, KDE_MAX_BANDWIDTH))


def _mixture_density(points: np.ndarray, centers: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """(1/M) Σ_m N(points; centers_m, diag sigmas_m²) for points (G, 2) -> (G,), chunked."""
    out = np.zeros(len(points))
    inv = 1.0 / sigmas  # (M, 2)
    norm = 1.0 / (2 * np.pi * sigmas[:, 0] * sigmas[:, 1])  # (M,)
    for start in range(0, len(centers), 256):
        c, iv, nm = (
            centers[start : start + 256],
            inv[start : start + 256],
            norm[start : start + 256],
        )
        d = (points[:, None, :] - c[None]) * iv[None]  # (G, m, 2)
        out += np.exp(-0.5 * np.sum(d**2, axis=2)) @ nm
    return out / len(centers)
