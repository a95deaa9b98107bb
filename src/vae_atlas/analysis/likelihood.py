"""Per-image likelihood bounds: the ELBO (Kingma & Welling 2014).

``neg_elbo_per_image`` returns −ELBO(x) = E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)) for every image,
in nats, estimated with ``n_samples`` draws of z (the KL term is exact).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import model_device
from vae_atlas.data import ImageSet
from vae_atlas.models.protocol import has_likelihood
from vae_atlas.models.vae import gaussian_kl_per_dim


@torch.no_grad()
def neg_elbo_per_image(
    model: nn.Module,
    images: ImageSet | torch.Tensor,
    *,
    n_samples: int = 1,
    batch_size: int = 1024,
    seed: int = 0,
) -> np.ndarray:
    """−ELBO of each image (N,) in nats. A plain AE gets its reconstruction NLL at z = encoder(x)."""
    if not has_likelihood(model):
        raise TypeError("this model has no log_px_given_z(x, z); it cannot score images")
    raw, scale = (images.images, 1 / 255.0) if isinstance(images, ImageSet) else (images, 1.0)
    device = model_device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, raw.shape[0], batch_size):
        x = raw[start : start + batch_size].to(device=device, dtype=torch.float32) * scale
        mu, logvar = model.encode(x)
        if logvar is None:
            out.append(-model.log_px_given_z(x, mu).double().cpu())
            continue
        kl = gaussian_kl_per_dim(mu, logvar).sum(1).double()
        recon = torch.zeros_like(kl)
        for _ in range(n_samples):
            eps = torch.randn(mu.shape, generator=gen, device=device)
            recon -= model.log_px_given_z(x, mu + eps * torch.exp(0.5 * logvar)).double()
        out.append((recon / n_samples + kl).cpu())
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0)
