"""Encode a whole image set in batches with bounded memory.

:func:`encode_images` is the one place analyses turn images into latents (on top of
:func:`vae_atlas.models.inference.encode_stream`, which the training loop's probe set uses too);
it works on any model that satisfies the protocol of :mod:`vae_atlas.models.protocol`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.data import ImageSet
from vae_atlas.models.conditional import attribute_names_of, image_conditions, is_conditional
from vae_atlas.models.inference import collect_codes, encode_stream, eval_mode, model_device


@dataclass(frozen=True)
class LatentSet:
    """Posterior parameters of N images: ``mu`` (N, D), ``logvar`` (N, D) or None for a plain AE,
    and the images' ``labels`` (N,) or None. Arrays are float64/int64 numpy."""

    mu: np.ndarray
    logvar: np.ndarray | None
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.mu.shape[0])

    @property
    def latent_dim(self) -> int:
        return int(self.mu.shape[1])

    @property
    def sigma(self) -> np.ndarray | None:
        """Posterior standard deviations (N, D), or None for a deterministic encoder."""
        return None if self.logvar is None else np.exp(0.5 * self.logvar)

    def subset(self, index: np.ndarray | slice) -> LatentSet:
        return LatentSet(
            self.mu[index],
            None if self.logvar is None else self.logvar[index],
            None if self.labels is None else self.labels[index],
        )


def raw_pixels(images: ImageSet | torch.Tensor) -> tuple[torch.Tensor, float]:
    """The stored tensor of ``images`` and the factor that turns it into [0, 1] floats.

    uint8 pixels (an :class:`ImageSet`, or a bare uint8 tensor) are 0..255 and scale by 1/255;
    any other tensor is taken to hold [0, 1] values already.
    """
    raw = images.images if isinstance(images, ImageSet) else images
    return raw, (1.0 / 255.0 if raw.dtype == torch.uint8 else 1.0)


def encode_images(
    model: nn.Module,
    images: ImageSet | torch.Tensor,
    *,
    batch_size: int = 1024,
    labels: np.ndarray | None = None,
    conditions: np.ndarray | torch.Tensor | None = None,
) -> LatentSet:
    """Posterior means and log-variances of every image, encoded ``batch_size`` at a time.

    ``images`` is an :class:`ImageSet`, a uint8 tensor (N, C, H, W) of 0..255 or a float tensor
    in [0, 1]. Only one batch is converted to float at a time and the codes go straight into
    float64 arrays allocated once, so peak memory is the N×D codes plus a batch; a memory-mapped
    split (:mod:`vae_atlas.data.store`) also gives each batch's pages back once encoded.
    A conditional model (:func:`~vae_atlas.models.is_conditional`) is given ``conditions``, by
    default each image's own (:func:`~vae_atlas.models.conditional.image_conditions`: the
    set's labels, or an attribute cvae's attributes; ``labels`` (N,) for a bare tensor).
    """
    if isinstance(images, ImageSet) and images.labels is not None:
        labels = images.labels.numpy()
    raw, scale = raw_pixels(images)
    n = raw.shape[0]
    if isinstance(images, ImageSet):
        chunks = images.chunks(batch_size)
    else:
        chunks = (raw[start : start + batch_size] for start in range(0, n, batch_size))
    given = None
    if is_conditional(model):
        y = _own_conditions(model, images, labels) if conditions is None else conditions
        y = torch.as_tensor(np.asarray(y))
        given = (y[s : s + batch_size] for s in range(0, n, batch_size))
    stream = encode_stream(model, chunks, scale=scale, labels=given)
    mu, logvar = collect_codes(stream, n, dtype=torch.float64)
    if mu is None:
        return LatentSet(np.zeros((0, int(getattr(model, "latent_dim", 0)))), None, labels)
    return LatentSet(mu.numpy(), None if logvar is None else logvar.numpy(), labels)


def _own_conditions(
    model: nn.Module, images: ImageSet | torch.Tensor, labels: np.ndarray | None
) -> torch.Tensor | np.ndarray:
    if isinstance(images, ImageSet):
        found = image_conditions(model, images)
    else:
        found = None if attribute_names_of(model) else labels
    if found is None:
        what = "attributes" if attribute_names_of(model) else "labels"
        raise ValueError(
            f"a conditional model encodes given its condition: these images have no {what}"
        )
    return found


@torch.no_grad()
def decode_latents(
    model: nn.Module,
    z: np.ndarray,
    *,
    batch_size: int = 1024,
    labels: np.ndarray | None = None,
) -> np.ndarray:
    """Mean images (N, C, H, W) float32 in [0, 1] for codes z (N, D), decoded in batches; a
    conditional model decodes each code under its condition in ``labels``: classes (N,), or
    an attribute cvae's attribute rows (N, A)."""
    device = model_device(model)
    out = []
    z_t = torch.as_tensor(np.asarray(z), dtype=torch.float32)
    y_t = None if labels is None else _condition_tensor(labels)
    with eval_mode(model):
        for start in range(0, z_t.shape[0], batch_size):
            zb = z_t[start : start + batch_size].to(device)
            given = () if y_t is None else (y_t[start : start + batch_size].to(device),)
            out.append(model.decode(zb, *given).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), dtype=np.float32)


def _condition_tensor(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Conditions as the model reads them: class labels int64, attribute rows float32."""
    y = torch.as_tensor(np.asarray(values))
    return y.to(torch.float32 if y.is_floating_point() else torch.int64)
