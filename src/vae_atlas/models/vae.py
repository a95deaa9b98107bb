"""The autoencoder family: plain AE, VAE (Kingma & Welling 2014), β-VAE (Higgins et al. 2017)
with optional capacity annealing (Burgess et al. 2018), and the IWAE bound (Burda et al. 2016).

All objectives share one module, :class:`AutoEncoder`; the objective only changes the loss. The
loss functions are pure: they take the model's outputs and the schedule values (KL weight β and
capacity C) for the current step and return :class:`LossTerms`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.models.conv import ConvDecoder, ConvEncoder
from vae_atlas.models.likelihood import build_likelihood
from vae_atlas.models.mlp import MLPDecoder, MLPEncoder

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class LossTerms:
    """Batch means of the loss and its parts, all in nats per image.

    ``loss`` is what the optimiser minimises; ``neg_elbo`` = ``recon`` + ``kl`` is the negative
    evidence lower bound (for a plain AE, ``kl`` is zero and ``neg_elbo`` is only the
    reconstruction NLL); ``kl_per_dim`` (latent_dim,) is the mean KL of each latent dimension.
    """

    loss: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    kl_per_dim: torch.Tensor

    @property
    def neg_elbo(self) -> torch.Tensor:
        return self.recon + self.kl


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, e^logvar) ‖ N(0, 1)) per element: ½(μ² + σ² − 1 − log σ²), same shape as μ."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


def log_normal(x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(x; μ, e^logvar) summed over the last dimension."""
    return -0.5 * ((x - mu).square() * torch.exp(-logvar) + logvar + _LOG_2PI).sum(-1)


def log_standard_normal(x: torch.Tensor) -> torch.Tensor:
    """log N(x; 0, I) summed over the last dimension."""
    return -0.5 * (x.square() + _LOG_2PI).sum(-1)


def widened(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32 when it is in a lower precision (bf16/fp16 from autocast); float32 and
    float64 tensors are returned as they are."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


class AutoEncoder(nn.Module):
    """Encoder + decoder + likelihood, built from one :class:`ModelConfig`.

    Protocol methods (shared with user models, see :mod:`vae_atlas.models.protocol`):
    ``encode(x) -> (mu, logvar)`` with ``logvar=None`` for a plain AE; ``decode(z) -> mean image``.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.latent_dim = cfg.latent_dim
        self.image_shape = cfg.image_shape
        n_out = 2 * cfg.latent_dim if cfg.stochastic else cfg.latent_dim
        enc_cls, dec_cls = (
            (MLPEncoder, MLPDecoder) if cfg.family == "mlp" else (ConvEncoder, ConvDecoder)
        )
        self.encoder = enc_cls(cfg.image_shape, cfg.hidden, n_out, cfg.activation)
        self.decoder = dec_cls(cfg.image_shape, cfg.hidden, cfg.latent_dim, cfg.activation)
        self.likelihood = build_likelihood(
            cfg.likelihood, sigma=cfg.sigma, learn_sigma=cfg.learn_sigma
        )

    @property
    def stochastic(self) -> bool:
        return self.cfg.stochastic

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images (B, C, H, W) in [0, 1] -> posterior means (B, D), log-variances (B, D) or None."""
        h = self.encoder(x)
        if not self.stochastic:
            return h, None
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (B, D) -> likelihood parameters (B, C, H, W) (logits or pre-sigmoid means)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (B, D) -> mean images (B, C, H, W) in [0, 1]."""
        return self.likelihood.mean(self.decoder(z))

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) in nats for images x (B, C, H, W) and codes z (B, D) -> (B,)."""
        # at least float32 logits: under autocast the decoder may return bf16/fp16, and the
        # likelihood's per-pixel terms and sums stay in float32 (float64 models keep theirs)
        return self.likelihood.log_prob(x, widened(self.decoder(z)))

    @torch.no_grad()
    def init_output_bias(self, mean_image: torch.Tensor, eps: float = 1e-3) -> bool:
        """Start the decoder at the data's mean image: output bias = logit(mean pixel).

        Both likelihoods read the decoder output through a sigmoid, so this makes an untrained
        model predict the average training image instead of grey 0.5 everywhere; the first steps
        then learn structure instead of the marginal (a common data-dependent initialisation;
        on MNIST it is worth about one epoch). ``mean_image`` is (C, H, W) in [0, 1]; a per-pixel
        output bias (MLP) gets the pixel means, a per-channel one (conv) the channel means.
        Returns False, changing nothing, for a decoder whose last layer has neither.
        """
        kinds = (nn.Linear, nn.ConvTranspose2d)
        layers = [m for m in self.decoder.modules() if isinstance(m, kinds)]
        bias = layers[-1].bias if layers else None
        if bias is None:
            return False
        mean = mean_image.to(device=bias.device, dtype=torch.float64)  # (C, H, W)
        if bias.numel() != mean.numel():
            mean = mean.flatten(1).mean(1)  # (C,)
            if bias.numel() != mean.numel():
                return False
        bias.copy_(torch.logit(mean.clamp(eps, 1.0 - eps)).reshape(bias.shape))
        return True

    def loss(
        self,
        x: torch.Tensor,
        *,
        kl_weight: float = 1.0,
        capacity: float = 0.0,
        k: int = 1,
        generator: torch.Generator | None = None,
        dataset_size: int | None = None,
    ) -> LossTerms:
        """Loss terms of this model's objective on a batch x (B, C, H, W); ``dataset_size``,
        the number of training images, is needed by beta-tcvae's estimators.

        The KL, the noise and every reduction run in float32 even when the encoder ran under
        bf16/fp16 autocast (:func:`widened` leaves float32 and float64 models as they are)."""
        # imported here: the objectives build on this module's terms
        from vae_atlas.models.objectives import OBJECTIVE_LOSSES

        mu, logvar = self.encode(x)
        mu = widened(mu)
        logvar = None if logvar is None else widened(logvar)
        if logvar is None:
            return ae_loss(self, x, mu)
        objective = OBJECTIVE_LOSSES.get(self.cfg.objective)
        if objective is not None:
            return objective(
                self,
                x,
                mu,
                logvar,
                kl_weight=kl_weight,
                dataset_size=dataset_size,
                generator=generator,
            )
        if self.cfg.objective == "iwae":
            return iwae_loss(self, x, mu, logvar, k=k, generator=generator)
        return vae_loss(self, x, mu, logvar, kl_weight, capacity, generator)


def ae_loss(model: AutoEncoder, x: torch.Tensor, z: torch.Tensor) -> LossTerms:
    """Plain autoencoder: reconstruction NLL of the deterministic code, no KL."""
    recon = -model.log_px_given_z(x, z).mean()
    zero = recon.new_zeros(())
    return LossTerms(loss=recon, recon=recon, kl=zero, kl_per_dim=z.new_zeros(z.shape[1]))


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """z = μ + σ ε with ε ~ N(0, I), drawn from ``generator`` (Kingma & Welling 2014)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * torch.exp(0.5 * logvar)


@dataclass(frozen=True)
class GaussianTerms:
    """The pieces every objective with a Gaussian posterior and the N(0, I) prior starts from,
    for one batch: a reparameterised code ``z`` (B, D), the reconstruction NLL there ``recon``
    (batch mean), the closed-form KL per image and dimension ``kl_dims`` (B, D) and ``kl``, its
    sum over dimensions averaged over the batch."""

    z: torch.Tensor
    recon: torch.Tensor
    kl_dims: torch.Tensor
    kl: torch.Tensor

    def with_loss(self, loss: torch.Tensor) -> LossTerms:
        """These terms reported beside the objective's ``loss``."""
        return LossTerms(loss=loss, recon=self.recon, kl=self.kl, kl_per_dim=self.kl_dims.mean(0))


def gaussian_terms(
    model: AutoEncoder,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    generator: torch.Generator | None,
) -> GaussianTerms:
    """One draw z ~ N(mu, e^logvar) (B, D) from ``generator``, −log p(x | z) and KL(q ‖ N(0, I))
    for the batch x (B, C, H, W)."""
    z = reparameterize(mu, logvar, generator)
    recon = -model.log_px_given_z(x, z).mean()
    kl_dims = gaussian_kl_per_dim(mu, logvar)  # (B, D)
    return GaussianTerms(z=z, recon=recon, kl_dims=kl_dims, kl=kl_dims.sum(1).mean())


def kl_penalty(kl: torch.Tensor, capacity: float) -> torch.Tensor:
    """What β weighs: the KL, or |KL − C| with a capacity C > 0 (Burgess et al. 2018)."""
    return (kl - capacity).abs() if capacity > 0 else kl


def vae_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    kl_weight: float,
    capacity: float,
    generator: torch.Generator | None,
) -> LossTerms:
    """(β-)VAE: recon + β·KL, or recon + β·|KL − C| with capacity C > 0 (Burgess et al. 2018)."""
    terms = gaussian_terms(model, x, mu, logvar, generator)
    return terms.with_loss(terms.recon + kl_weight * kl_penalty(terms.kl, capacity))


def iwae_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    k: int,
    generator: torch.Generator | None,
) -> LossTerms:
    """Importance-weighted bound with k samples (Burda et al. 2016): −E log (1/k) Σ_i w_i."""
    batch, dim = mu.shape
    eps = torch.randn((k, batch, dim), generator=generator, device=mu.device, dtype=mu.dtype)
    z = mu + eps * torch.exp(0.5 * logvar)  # (k, B, D)
    log_px = model.log_px_given_z(x.repeat(k, 1, 1, 1), z.reshape(k * batch, dim)).view(k, batch)
    log_w = log_px + log_standard_normal(z) - log_normal(z, mu, logvar)  # (k, B)
    bound = torch.logsumexp(log_w, dim=0) - math.log(k)
    kl_dims = gaussian_kl_per_dim(mu, logvar)
    kl = kl_dims.sum(1).mean()
    recon = -log_px.mean()
    return LossTerms(loss=-bound.mean(), recon=recon, kl=kl, kl_per_dim=kl_dims.mean(0))
