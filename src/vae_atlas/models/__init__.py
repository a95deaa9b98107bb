"""Models: MLP and conv encoders/decoders, likelihoods, the AE/VAE/β-VAE/IWAE family, and the
protocol that lets users bring their own ``nn.Module``."""

from __future__ import annotations

from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.models.conditional import ConditionalAutoEncoder, is_conditional
from vae_atlas.models.hierarchical import HierarchicalVAE
from vae_atlas.models.inference import encode_batches, eval_mode, model_device
from vae_atlas.models.likelihood import BernoulliLikelihood, GaussianLikelihood
from vae_atlas.models.objectives import FactorVAE
from vae_atlas.models.priors import MixturePrior, VampPriorVAE, own_prior, prior_of
from vae_atlas.models.protocol import LatentModel, ModelAdapter, as_latent_model, has_likelihood
from vae_atlas.models.vae import (
    AutoEncoder,
    LossTerms,
    gaussian_kl_per_dim,
    log_normal,
    log_standard_normal,
    reparameterize,
)
from vae_atlas.models.vq import VQAutoEncoder

__all__ = [
    "AutoEncoder",
    "BernoulliLikelihood",
    "ConditionalAutoEncoder",
    "GaussianLikelihood",
    "HierarchicalVAE",
    "LatentModel",
    "LossTerms",
    "MixturePrior",
    "ModelAdapter",
    "VQAutoEncoder",
    "as_latent_model",
    "build_model",
    "encode_batches",
    "eval_mode",
    "gaussian_kl_per_dim",
    "has_likelihood",
    "is_conditional",
    "log_normal",
    "log_standard_normal",
    "model_device",
    "own_prior",
    "prior_of",
    "reparameterize",
    "VampPriorVAE",
]

# objectives whose model is more than an AutoEncoder with another loss
MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "vamp": VampPriorVAE,
    "hvae": HierarchicalVAE,
    "vq-vae": VQAutoEncoder,
    "cvae": ConditionalAutoEncoder,
    "factor-vae": FactorVAE,  # the autoencoder and its discriminator
}


def build_model(cfg: ModelConfig) -> AutoEncoder:
    """Build the (untrained) model a :class:`ModelConfig` describes: an :class:`AutoEncoder`,
    or for ``hvae`` a :class:`HierarchicalVAE` (the same protocol and loss signature)."""
    return MODEL_CLASSES.get(cfg.objective, AutoEncoder)(cfg)
