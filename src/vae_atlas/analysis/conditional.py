"""What a conditional VAE (Sohn et al. 2015) separates: the class it is told, and the style z
it encodes. The same z decoded under every class ("this handwriting, every digit") and prior
draws decoded per class show it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import decode_latents, encode_images, raw_pixels
from vae_atlas.analysis.sampling import sample_prior
from vae_atlas.data import ImageSet
from vae_atlas.models.inference import eval_mode, model_device
from vae_atlas.models.vae import gaussian_kl_per_dim, reparameterize


def decode_every_class(model: nn.Module, z: np.ndarray, n_classes: int) -> np.ndarray:
    """Each code of ``z`` (N, D) decoded under every class: (N, n_classes, C, H, W)."""
    n = len(z)
    codes = np.repeat(np.asarray(z), n_classes, axis=0)  # (N·K, D), each code K times
    labels = np.tile(np.arange(n_classes), n)  # (N·K,) classes 0..K-1 per code
    images = decode_latents(model, codes, labels=labels)
    return images.reshape(n, n_classes, *images.shape[1:])


def style_transfer(model: nn.Module, images: ImageSet, index: np.ndarray) -> np.ndarray:
    """The test inputs ``images[index]`` encoded with their own class and their codes decoded
    under every class: (len(index), n_classes, C, H, W)."""
    subset = images.subset(torch.as_tensor(np.asarray(index, dtype=np.int64)))
    return decode_every_class(model, encode_images(model, subset).mu, int(model.n_classes))


def prior_samples_per_class(model: nn.Module, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` draws z ~ N(0, I), the same for every class, decoded under each class:
    (n_classes, n, C, H, W)."""
    z = sample_prior(n, int(model.latent_dim), seed=seed)  # (n, D)
    return decode_every_class(model, z, int(model.n_classes)).transpose(1, 0, 2, 3, 4)


@torch.no_grad()
def conditional_neg_elbo_per_image(
    model: nn.Module,
    images: ImageSet | torch.Tensor,
    *,
    labels: np.ndarray | None = None,
    batch_size: int = 1024,
    seed: int = 0,
) -> np.ndarray:
    """−ELBO of each image (N,) in nats under its own class (the set's labels, or ``labels``
    (N,) for a bare tensor): one z ~ q(z | x, y), −log p(x | z, y) + KL(q(z | x, y) ‖ N(0, I))."""
    if isinstance(images, ImageSet) and labels is None:
        labels = None if images.labels is None else images.labels.numpy()
    if labels is None:
        raise ValueError("a conditional model scores images given the class: these have no labels")
    raw, scale = raw_pixels(images)
    y_all = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    device = model_device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    out = []
    with eval_mode(model):
        for start in range(0, raw.shape[0], batch_size):
            x = raw[start : start + batch_size].to(device, torch.float32) * scale
            y = y_all[start : start + batch_size].to(device)
            mu, logvar = model.encode(x, y)
            z = reparameterize(mu, logvar, gen)
            kl = gaussian_kl_per_dim(mu, logvar).sum(1)
            out.append((kl - model.log_px_given_z(x, z, y)).double().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


def nearest_labels(codes: np.ndarray, labels: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The label (Q,) of the code in ``codes`` (N, D) nearest each of ``z`` (Q, D): an encoded
    input's own class for its own code, the class of the neighbourhood elsewhere."""
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=1).fit(codes).kneighbors(np.asarray(z))[1][:, 0]
    return np.asarray(labels)[index]
