"""How good is a latent space? Class structure and activity of its dimensions.

* kNN accuracy: fit k-nearest-neighbours (k=5) on training-set latent means, score on test means.
* Silhouette (Rousseeuw 1987) of the classes in latent space, on a seeded subsample.
* Active units (Burda et al. 2016): dimension d is active when Cov_x(E_q[z_d | x]) > 0.01.
"""

from __future__ import annotations

import numpy as np

from vae_atlas.analysis.encode import LatentSet

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
            latents.mu, latents.labels, sample_size=min(max_samples, len(latents)), random_state=seed
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
