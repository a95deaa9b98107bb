"""How good is a latent space? Class structure, activity and dependence of its dimensions, and
how smoothly the decoder maps straight latent paths.

* kNN accuracy: fit k-nearest-neighbours (k=5) on training-set latent means, score on test means.
* Linear-probe accuracy: multinomial logistic regression on standardised means, train -> test
  (the "linear evaluation" protocol of representation learning).
* Silhouette (Rousseeuw 1987) of the classes in latent space, on a seeded subsample.
* Active units (Burda et al. 2016): dimension d is active when Cov_x(E_q[z_d | x]) > 0.01.
* Total correlation TC = KL(q(z) ‖ Π_d q(z_d)) of the aggregate posterior, estimated as in
  Chen et al. (2018, "Isolating Sources of Disentanglement in VAEs") — see
  :func:`total_correlation`.
* Interpolation smoothness: decoded path length along a straight latent line between two test
  codes, divided by the distance between the decoded endpoints (1 = the decoder moves in a
  straight line in pixel space; large = it passes through other images on the way).
* Interpolation roughness: the largest decoded step along the same paths over the mean step
  (1 = even change; large = the path jumps, typically across a hole between clusters).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import LatentSet, decode_latents
from vae_atlas.analysis.interpolation import random_pairs

ACTIVE_UNIT_THRESHOLD = 0.01


def knn_accuracy(train: LatentSet, test: LatentSet, *, k: int = 5) -> float:
    """Accuracy of a k-NN classifier fitted on ``train`` means and evaluated on ``test`` means."""
    from sklearn.neighbors import KNeighborsClassifier

    if train.labels is None or test.labels is None:
        raise ValueError("kNN accuracy needs labels on both latent sets")
    clf = KNeighborsClassifier(n_neighbors=min(k, len(train)))
    clf.fit(train.mu, train.labels)
    return float(clf.score(test.mu, test.labels))


def silhouette_by_class(latents: LatentSet, *, max_samples: int = 5000, seed: int = 0) -> float:
    """Mean silhouette coefficient of the class labels in latent space, in [-1, 1]."""
    from sklearn.metrics import silhouette_score

    if latents.labels is None:
        raise ValueError("the silhouette needs labels")
    if len(np.unique(latents.labels)) < 2:
        raise ValueError("the silhouette needs at least two classes")
    return float(
        silhouette_score(
            latents.mu,
            latents.labels,
            sample_size=min(max_samples, len(latents)),
            random_state=seed,
        )
    )


def active_units(
    mu: np.ndarray, *, threshold: float = ACTIVE_UNIT_THRESHOLD
) -> tuple[int, np.ndarray]:
    """Number of active dimensions and the per-dimension variance of the means (D,)."""
    variances = np.var(np.asarray(mu, dtype=np.float64), axis=0)
    return int((variances > threshold).sum()), variances


def kl_per_dim(latents: LatentSet) -> np.ndarray:
    """Mean KL(q(z_d|x) ‖ N(0,1)) per dimension (D,), nats; zeros for a deterministic encoder."""
    if latents.logvar is None:
        return np.zeros(latents.latent_dim)
    kl = 0.5 * (latents.mu**2 + np.exp(latents.logvar) - 1.0 - latents.logvar)
    return kl.mean(axis=0)


def linear_probe_accuracy(train: LatentSet, test: LatentSet, *, max_iter: int = 1000) -> float:
    """Test accuracy of a logistic-regression probe fitted on standardised ``train`` means."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if train.labels is None or test.labels is None:
        raise ValueError("the linear probe needs labels on both latent sets")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(train.mu, train.labels)
    return float(probe.score(test.mu, test.labels))


def total_correlation(latents: LatentSet, *, n_samples: int = 2000, seed: int = 0) -> float:
    """Total correlation of the aggregate posterior q(z) = (1/M) Σ_j q(z|x_j), in nats.

    Estimator (document of choice): draw one z_i ~ q(z|x_i) for M = ``n_samples`` images (a
    seeded subsample) and use the same M posteriors as the mixture, i.e.

        log q(z_i)   ≈ logsumexp_j log q(z_i | x_j) − log M
        log q(z_id)  ≈ logsumexp_j log q(z_id | x_j) − log M
        TC ≈ mean_i [ log q(z_i) − Σ_d log q(z_id) ]

    This is Chen et al.'s minibatch-weighted sampling with the minibatch equal to the whole
    subsample (N = M), so no dataset-size correction is needed; it is consistent as M grows and
    biased low-variance for finite M. Cost O(M² D). Undefined (ValueError) for a plain AE.
    """
    if latents.logvar is None:
        raise ValueError("total correlation needs a stochastic encoder (posterior variances)")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(latents), size=min(n_samples, len(latents)), replace=False)
    mu = torch.as_tensor(latents.mu[idx], dtype=torch.float64)  # (M, D)
    logvar = torch.as_tensor(latents.logvar[idx], dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    z = mu + torch.randn(mu.shape, generator=gen, dtype=torch.float64) * torch.exp(0.5 * logvar)
    m, dim = mu.shape
    chunk = max(1, 4_000_000 // (m * dim))  # rows of z per step: bounded (chunk, M, D) memory
    tc = []
    for start in range(0, m, chunk):
        zc = z[start : start + chunk]
        # log q(z_id | x_j) for the chunk's i, all j, d: (chunk, M, D)
        log_q = -0.5 * (
            (zc[:, None, :] - mu[None]).square() * torch.exp(-logvar[None])
            + logvar[None]
            + math.log(2 * math.pi)
        )
        log_qz = torch.logsumexp(log_q.sum(2), dim=1) - math.log(m)  # (chunk,)
        log_marginals = (torch.logsumexp(log_q, dim=1) - math.log(m)).sum(1)  # (chunk,)
        tc.append(log_qz - log_marginals)
    return float(torch.cat(tc).mean())


@torch.no_grad()
def interpolation_smoothness(
    model: nn.Module, latents: LatentSet, *, n_pairs: int = 200, n_steps: int = 16, seed: int = 0
) -> float | None:
    """Median over random pairs of (decoded path length) / (decoded endpoint distance), ≥ 1.

    For a pair of posterior means (a, b) the path z_t = a + t (b − a), t = 0, 1/(T−1), ..., 1, is
    decoded to mean images x̂_t; its length is Σ_t ‖x̂_{t+1} − x̂_t‖ (Euclidean, pixels in [0, 1]).
    Pairs whose endpoints decode to the same image have no ratio and are left out; the median
    keeps a few near-identical endpoints from dominating. None when no pair is left: the decoder
    gives every code the same image (a collapsed model).
    """
    a, b = random_pairs(len(latents), n_pairs, seed)
    steps, chord = _decoded_path_steps(model, latents.mu, a, b, n_steps)
    ok = chord > 1e-6
    return float(np.median(steps.sum(1)[ok] / chord[ok])) if ok.any() else None


def interpolation_roughness(
    model: nn.Module, latents: LatentSet, *, n_pairs: int = 200, n_steps: int = 16, seed: int = 0
) -> float:
    """Median over random pairs of the largest decoded step over the mean step, ≥ 1.

    Same paths as :func:`interpolation_smoothness` (same pairs for the same seed). 1 means the
    image changes evenly along the path; large values mean most of the change happens in one
    jump, as when a straight line crosses a region no training code maps to (a "hole") between
    two clusters. Path length alone misses this: a path that stays on one image and then jumps
    can be as short as an even morph through several classes. A path whose decodings do not
    change counts as 1, as in :func:`~vae_atlas.analysis.interpolation.path_roughness`.
    """
    a, b = random_pairs(len(latents), n_pairs, seed)
    return float(np.median(pair_roughness(model, latents.mu, a, b, n_steps=n_steps)))


@torch.no_grad()
def pair_roughness(
    model: nn.Module, mu: np.ndarray, a: np.ndarray, b: np.ndarray, *, n_steps: int = 16
) -> np.ndarray:
    """Roughness (largest decoded step / mean step) of the straight path from ``mu[a[i]]`` to
    ``mu[b[i]]`` for each pair i, shape (P,); 1 for a path whose decodings do not change."""
    steps, _ = _decoded_path_steps(model, mu, a, b, n_steps)
    mean = steps.mean(1)
    changes = mean > 1e-12
    ratios = np.ones_like(mean)
    ratios[changes] = steps.max(1)[changes] / mean[changes]
    return ratios


def _decoded_path_steps(
    model: nn.Module, mu: np.ndarray, a: np.ndarray, b: np.ndarray, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Decoded step lengths (P, T−1) of the straight paths mu[a] → mu[b]; chords (P,)."""
    mu = np.asarray(mu, dtype=np.float64)
    t = np.linspace(0.0, 1.0, n_steps)[None, :, None]  # (1, T, 1)
    path = mu[a][:, None] + t * (mu[b] - mu[a])[:, None]  # (P, T, D)
    images = decode_latents(model, path.reshape(-1, mu.shape[1]))  # (P·T, C, H, W)
    images = images.reshape(len(a), n_steps, -1).astype(np.float64)  # (P, T, pixels)
    steps = np.linalg.norm(np.diff(images, axis=1), axis=2)  # (P, T−1)
    chord = np.linalg.norm(images[:, -1] - images[:, 0], axis=1)  # (P,)
    return steps, chord
