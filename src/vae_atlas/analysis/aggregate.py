"""The aggregate posterior q(z) = (1/N) Σ_n q(z | x_n) against the prior p(z) — N(0, I), or the
model's own (:func:`vae_atlas.models.prior_of`: a VampPrior, a hierarchical model's level)
(Makhzani et al. 2016; Hoffman & Johnson 2016, "ELBO surgery").

Where the prior has mass but q(z) has almost none lie the "holes": prior samples drawn there
decode to inputs the decoder never saw. :func:`hole_fraction` measures the prior mass in the
holes in all D dimensions, from samples: the density ratio q/p at prior draws is estimated from
k-nearest-neighbour distances (Wang, Kulkarni & Verdú 2009) to codes drawn from q and to an
independent reference sample from p of the same size, so the answer does not depend on the
codes' scale. :func:`aggregate_density` evaluates both densities on a plane of two latent
dimensions (the marginal of each is exact there) for the figure. For a plain autoencoder q(z|x)
is a point, so on the plane q(z) is estimated by a Gaussian kernel density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae_atlas.models.priors import MixturePrior

HOLE_RATIO = 0.1
"""A point is in a hole when q(z) < HOLE_RATIO · p(z)."""

HOLE_NEIGHBOURS = 10
"""k of the k-nearest-neighbour density ratio: its log has a spread of about 1/√k, so equal
densities (log ratio 0) fall below log HOLE_RATIO ≈ −2.3 almost never."""


def hole_fraction(
    codes: np.ndarray,
    *,
    n_prior: int = 2000,
    max_codes: int = 4000,
    k: int = HOLE_NEIGHBOURS,
    seed: int = 0,
    prior: MixturePrior | None = None,
) -> float:
    """Fraction of prior draws z ~ p(z) where q(z) < ``HOLE_RATIO`` · p(z), in [0, 1]; p is
    ``prior``, N(0, I) when None.

    ``codes`` (N, D) are draws from the aggregate posterior: one z ~ q(z | x) per input (a plain
    autoencoder's codes themselves). For M = min(N, ``max_codes``) codes and a reference sample
    of M prior draws, the density ratio at a query z is estimated as (r_p / r_q)^D, where r_q and
    r_p are the distances from z to its k-th nearest code and k-th nearest reference draw.
    """
    from sklearn.neighbors import NearestNeighbors

    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) <= k:
        raise ValueError(f"hole_fraction needs more than k={k} codes of shape (N, D)")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(codes), size=min(max_codes, len(codes)), replace=False)
    m, d = len(pick), codes.shape[1]
    reference = draw_prior(prior, m, d, rng)
    queries = draw_prior(prior, n_prior, d, rng)
    r_q = NearestNeighbors(n_neighbors=k).fit(codes[pick]).kneighbors(queries)[0][:, -1]
    r_p = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(queries)[0][:, -1]
    log_ratio = d * (np.log(r_p) - np.log(np.maximum(r_q, 1e-300)))
    return float(np.mean(log_ratio < np.log(HOLE_RATIO)))


def draw_prior(prior: MixturePrior | None, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n draws (n, d) from ``prior`` (N(0, I) when None or standard) with ``rng``: standard
    normal ε, then, for a mixture, a component per draw and its mean + σ·ε."""
    eps = rng.standard_normal((n, d))
    if prior is None or prior.standard:
        return eps
    means, logvars = _numpy_components(prior)
    pick = rng.integers(len(means), size=n)
    return means[pick] + eps * np.exp(0.5 * logvars[pick])


def _numpy_components(prior: MixturePrior) -> tuple[np.ndarray, np.ndarray]:
    return (
        prior.means.detach().cpu().double().numpy(),  # (K, D)
        prior.logvars.detach().cpu().double().numpy(),
    )


def aggregate_codes(mu: np.ndarray, logvar: np.ndarray | None, *, seed: int = 0) -> np.ndarray:
    """One draw z ~ q(z | x) per input (N, D): the means plus seeded noise of the posterior's
    width, or the means themselves for a deterministic encoder."""
    mu = np.asarray(mu, dtype=np.float64)
    if logvar is None:
        return mu
    noise = np.random.default_rng(seed).standard_normal(mu.shape)
    return mu + noise * np.exp(0.5 * np.asarray(logvar, dtype=np.float64))


@dataclass(frozen=True)
class AggregateDensity:
    """Densities on a ``size``×``size`` grid over [-extent, extent]² in latent dims ``dims``.

    ``q`` and ``p`` (size, size) are indexed [row=z_b, column=z_a] (ascending); ``holes`` marks
    where q < HOLE_RATIO · p; ``outside`` is the fraction of encoded means outside the window.
    """

    dims: tuple[int, int]
    axis: np.ndarray
    q: np.ndarray
    p: np.ndarray
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
    prior: MixturePrior | None = None,
) -> AggregateDensity:
    """Evaluate q(z) and p(z) on the plane of latent dims ``dims`` (a 1-D space is padded with
    N(0, 1)); p is ``prior``'s exact marginal on the plane, N(0, I) when None.

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
    q = mixture_density(points, centers, sigmas).reshape(size, size)
    on_plane = plane_prior(prior, dims)
    if on_plane is None:
        p = np.exp(-0.5 * (gx**2 + gy**2)) / (2 * np.pi)
    else:
        p = on_plane.density(points).reshape(size, size)
    plane = _plane(mu, dims)
    outside = float(np.mean(np.any(np.abs(plane) > extent, axis=1)))
    return AggregateDensity(dims, axis, q, p, outside, method)


@dataclass(frozen=True)
class PlaneMixture:
    """A mixture prior's exact marginal on a plane of two latent dimensions: its components'
    ``means`` and standard deviations ``sigmas`` (K, 2) there, and ``label``, what it is."""

    means: np.ndarray
    sigmas: np.ndarray
    label: str

    def density(self, points: np.ndarray) -> np.ndarray:
        """p(points) for points (G, 2) -> (G,)."""
        return mixture_density(points, self.means, self.sigmas)


def plane_prior(prior: MixturePrior | None, dims: tuple[int, int]) -> PlaneMixture | None:
    """``prior``'s marginal on latent dims ``dims`` (a 1-D space padded with N(0, 1)), or None
    for N(0, I), whose closed form the figures draw directly."""
    if prior is None or prior.standard:
        return None
    means, logvars = _numpy_components(prior)
    return PlaneMixture(_plane(means, dims), np.exp(0.5 * _plane(logvars, dims)), prior.label)


def highest_density_levels(
    density: np.ndarray, cell_area: float, masses: tuple[float, ...]
) -> np.ndarray:
    """The density thresholds whose super-level sets hold ``masses`` of a density sampled on a
    grid (any shape) with cells of ``cell_area``, ascending: the contours to draw for "the
    smallest region holding 39 % / 86 % / 99 % of the prior"."""
    flat = np.sort(np.asarray(density, dtype=np.float64).ravel())[::-1]
    mass = np.cumsum(flat) * cell_area
    index = np.minimum(np.searchsorted(mass, masses), len(flat) - 1)
    return np.sort(flat[index])


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


def mixture_density(points: np.ndarray, centers: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
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
