"""Numbers behind the pictures: encoding, projections, traversals, interpolations, samples,
likelihoods, diagnostics and disentanglement scores. Arrays and small frozen dataclasses only;
nothing here draws."""

from vae_atlas.analysis.encode import LatentSet, decode_latents, encode_images, model_device
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.analysis.quality import (
    ACTIVE_UNIT_THRESHOLD,
    active_units,
    kl_per_dim,
    knn_accuracy,
    silhouette_by_class,
)

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "LatentSet",
    "active_units",
    "decode_latents",
    "encode_images",
    "kl_per_dim",
    "knn_accuracy",
    "model_device",
    "neg_elbo_per_image",
    "silhouette_by_class",
]
