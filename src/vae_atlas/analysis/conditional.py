"""What a conditional VAE (Sohn et al. 2015) separates: the condition it is told (a class, or
an attribute vector), and the style z it encodes. The same z decoded under every class ("this
handwriting, every digit"), or under its own attributes with each one flipped, and prior draws
decoded per class or per attribute switched on show it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import decode_latents, encode_images, raw_pixels
from vae_atlas.analysis.sampling import sample_prior
from vae_atlas.data import ImageSet
from vae_atlas.models.conditional import image_conditions
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


def attribute_states(model: nn.Module) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An attribute cvae's (binary (A,) bool, off (A,), on (A,)) attribute values: a binary
    attribute is 0 off and 1 on; a continuous one is at its training mean off and one training
    standard deviation above it on."""
    binary = model.condition_binary.cpu().numpy().astype(bool)
    mean = model.condition_shift.double().cpu().numpy()
    std = model.condition_scale.double().cpu().numpy()
    off = np.where(binary, 0.0, mean)
    return binary, off, np.where(binary, 1.0, mean + std)


def flipped_conditions(model: nn.Module, own: np.ndarray) -> np.ndarray:
    """Attribute rows (N, A) -> (N, 1 + A, A): each row as it is, then with each attribute
    flipped in turn (a binary one 0 ↔ 1, a continuous one mirrored about its training mean)."""
    own = np.asarray(own, dtype=np.float64)
    binary, _, _ = attribute_states(model)
    mean = model.condition_shift.double().cpu().numpy()
    flipped = np.where(binary, 1.0 - own, 2.0 * mean - own)  # (N, A)
    n, a = own.shape
    out = np.repeat(own[:, None, :], 1 + a, axis=1)  # (N, 1 + A, A)
    columns = np.arange(a)
    out[:, 1 + columns, columns] = flipped[:, columns]
    return out


def attribute_flips(model: nn.Module, images: ImageSet, index: np.ndarray) -> np.ndarray:
    """The test inputs ``images[index]`` encoded under their own attributes, and their codes
    decoded under those attributes and under each one flipped: (len(index), 1 + A, C, H, W)."""
    subset = images.subset(torch.as_tensor(np.asarray(index, dtype=np.int64)))
    own = image_conditions(model, subset)
    assert own is not None  # an attribute cvae's split carries its attributes
    mu = encode_images(model, subset).mu  # (N, D)
    rows = flipped_conditions(model, own.numpy())  # (N, 1 + A, A)
    k = rows.shape[1]
    decoded = decode_latents(
        model, np.repeat(mu, k, axis=0), labels=rows.reshape(-1, rows.shape[2]).astype(np.float32)
    )
    return decoded.reshape(len(mu), k, *decoded.shape[1:])


def prior_samples_per_attribute(model: nn.Module, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` draws z ~ N(0, I), the same in every row, decoded with every attribute off (row 0)
    and then with each attribute alone switched on (see :func:`attribute_states`):
    (1 + A, n, C, H, W)."""
    _, off, on = attribute_states(model)
    a = len(off)
    rows = np.repeat(off[None], 1 + a, axis=0)  # (1 + A, A)
    rows[1 + np.arange(a), np.arange(a)] = on
    z = sample_prior(n, int(model.latent_dim), seed=seed)  # (n, D)
    codes = np.tile(z, (1 + a, 1))  # (n·(1+A), D): the same draws under each row
    labels = np.repeat(rows, n, axis=0).astype(np.float32)
    images = decode_latents(model, codes, labels=labels)
    return images.reshape(1 + a, n, *images.shape[1:])


@torch.no_grad()
def conditional_neg_elbo_per_image(
    model: nn.Module,
    images: ImageSet | torch.Tensor,
    *,
    labels: np.ndarray | None = None,
    batch_size: int = 1024,
    seed: int = 0,
) -> np.ndarray:
    """−ELBO of each image (N,) in nats under its own condition (the set's labels or an attribute
    cvae's attributes, or ``labels`` — classes (N,) or attribute rows (N, A) — for a bare
    tensor): one z ~ q(z | x, y), −log p(x | z, y) + KL(q(z | x, y) ‖ N(0, I))."""
    if isinstance(images, ImageSet) and labels is None:
        labels = image_conditions(model, images)
    if labels is None:
        raise ValueError("a conditional model scores images given their condition: these have none")
    raw, scale = raw_pixels(images)
    y_all = torch.as_tensor(np.asarray(labels))
    y_all = y_all.float() if y_all.is_floating_point() else y_all.long()
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
