"""Held-out numbers computed during training: the single-sample ELBO of the test set."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vae_atlas.models import AutoEncoder
from vae_atlas.models.inference import eval_mode
from vae_atlas.models.vae import gaussian_kl_per_dim, reparameterize


@dataclass(frozen=True)
class ElboSummary:
    """Means over a dataset, nats per image; ``kl_per_dim`` has one entry per latent dimension."""

    neg_elbo: float
    recon: float
    kl: float
    kl_per_dim: list[float]


@torch.no_grad()
def evaluate_elbo(
    model: AutoEncoder,
    x: torch.Tensor,
    *,
    batch_size: int = 2048,
    generator: torch.Generator | None = None,
    labels: torch.Tensor | None = None,
) -> ElboSummary:
    """−ELBO = E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)), one z sample per image, over x (N, C, H, W).

    A plain AE is scored on its deterministic code (the KL terms are then zero); a conditional
    model is given the images' ``labels`` (N,).
    """
    recon_sum = 0.0
    kl_dims_sum = torch.zeros(model.latent_dim, dtype=torch.float64)
    kl_extra = 0.0  # the KL beyond the per-dimension terms (which need not sum to it)
    with eval_mode(model):
        for start in range(0, x.shape[0], batch_size):
            xb = x[start : start + batch_size]
            own_terms = getattr(model, "elbo_terms", None)  # a prior or proposal of its own
            if own_terms is not None:
                recon_b, kl_b, kl_dims_b = own_terms(xb, generator)
                recon_sum += float(recon_b.double().sum())
                kl_dims_sum += kl_dims_b.sum(0).double().cpu()
                kl_extra += float((kl_b.double() - kl_dims_b.double().sum(1)).sum())
                continue
            given = () if labels is None else (labels[start : start + batch_size],)
            mu, logvar = model.encode(xb, *given)
            if logvar is None:
                z = mu
            else:
                z = reparameterize(mu, logvar, generator)
                kl_dims_sum += gaussian_kl_per_dim(mu, logvar).sum(0).double().cpu()
            recon_sum += float(-model.log_px_given_z(xb, z, *given).double().sum())
    n = x.shape[0]
    kl_per_dim = (kl_dims_sum / n).tolist()
    recon, kl = recon_sum / n, float(sum(kl_per_dim)) + kl_extra / n
    return ElboSummary(neg_elbo=recon + kl, recon=recon, kl=kl, kl_per_dim=kl_per_dim)
