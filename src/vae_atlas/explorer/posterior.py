"""Describe one posterior q(z|x) = N(μ, diag σ²) for the page (Kingma & Welling 2014).

Its map position, its 1-σ ellipse on a linear map (or, on UMAP/t-SNE, a cloud of posterior
samples placed approximately), its reconstruction (the decoded mean) and its nearest
neighbours among the shown data points, by Euclidean distance between latent means.
"""

from __future__ import annotations

import numpy as np

from vae_atlas.explorer.geometry import posterior_samples, projected_ellipse
from vae_atlas.explorer.images import data_uri, to_png
from vae_atlas.explorer.maps import LatentMap, place
from vae_atlas.explorer.state import ExplorerRun

N_CLOUD = 48


def describe(
    run: ExplorerRun,
    lmap: LatentMap,
    mu: np.ndarray,
    sigma: np.ndarray | None,
    *,
    k: int = 8,
    exclude: int | None = None,
    condition: np.ndarray | None = None,
) -> dict:
    """Fields of :class:`~vae_atlas.explorer.schemas.Posterior` for latent mean ``mu`` (D,); a
    cvae's reconstruction decodes under ``condition`` (1,) or (1, A), by default the code's own."""
    mu = np.asarray(mu, dtype=np.float64)
    position = place(lmap, mu[None], run.neighbours)[0]
    ellipse = None
    if sigma is not None and lmap.linear:
        cx, cy, rx, ry, angle = projected_ellipse(position, sigma, lmap.axes)
        ellipse = {"cx": cx, "cy": cy, "rx": rx, "ry": ry, "angle": angle}
    cloud: list[tuple[float, float]] = []
    if sigma is not None:
        samples = posterior_samples(mu, sigma, N_CLOUD)
        cloud = [(float(x), float(y)) for x, y in place(lmap, samples, run.neighbours)]
    recon = run.decode(mu[None], condition)[0]
    return {
        "mu": mu.tolist(),
        "sigma": None if sigma is None else np.asarray(sigma, dtype=np.float64).tolist(),
        "position": (float(position[0]), float(position[1])),
        "ellipse": ellipse,
        "cloud": cloud,
        "reconstruction": data_uri(to_png(recon)),
        "neighbours": nearest(run, mu, k, exclude),
    }


def nearest(run: ExplorerRun, mu: np.ndarray, k: int, exclude: int | None) -> list[dict]:
    """The ``k`` data points nearest to ``mu`` in latent space (skipping ``exclude``)."""
    n = len(run.latents)
    if k == 0 or n == 0:
        return []
    dist, idx = run.neighbours.kneighbors(mu[None], n_neighbors=min(n, k + 1))
    out = []
    for d, i in zip(dist[0], idx[0], strict=True):
        if i == exclude or len(out) == k:
            continue
        label = None if run.labels is None else int(run.labels[i])
        image = data_uri(to_png(run.images.images[i].numpy() / 255.0))
        out.append({"index": int(i), "label": label, "distance": float(d), "image": image})
    return out
