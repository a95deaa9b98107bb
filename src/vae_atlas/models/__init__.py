"""Models: MLP and conv encoders/decoders, likelihoods, the AE/VAE/β-VAE/IWAE family, and the
protocol that lets users bring their own ``nn.Module``."""

from __future__ import annotations

from vae_atlas.config import ModelConfig
from vae_atlas.models.inference import encode_batches, eval_mode, model_device
from vae_atlas.models.likelihood import BernoulliLikelihood, GaussianLikelihood
from vae_atlas.models.protocol import LatentModel, ModelAdapter, as_latent_model, has_likelihood
from vae_atlas.models.vae import (
    AutoEncoder,
    LossTerms,
    gaussian_kl_per_dim,
    log_normal,
    log_standard_normal,
    reparameterize,
)

__all__ = [
    "AutoEncoder",
    "BernoulliLikelihood",
    "GaussianLikelihood",
    "LatentModel",
    "LossTerms",
    "ModelAdapter",
    "as_latent_model",
    "build_model",
    "encode_batches",
    "eval_mode",
    "gaussian_kl_per_dim",
    "has_likelihood",
    "log_normal",
    "log_standard_normal",
    "model_device",
    "reparameterize",
]


def build_model(cfg: ModelConfig) -> AutoEncoder:
    """Build the (untrained) model a :class:`ModelConfig` describes."""
    return AutoEncoder(cfg)
