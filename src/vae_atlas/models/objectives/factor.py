"""FactorVAE (Kim & Mnih 2018): the VAE loss plus γ times a total-correlation estimate made by a
discriminator that tells codes z ~ q(z) from codes whose dimensions were shuffled independently
across the batch (samples of Π_d q(z_d)).

With D(z) = sigmoid(ℓ(z)) the discriminator's probability that z came from q(z), the density
ratio trick gives TC = E_q[log q(z) / Π_d q(z_d)] ≈ E_q[log D(z) / (1 − D(z))] = E_q[ℓ(z)].
The discriminator minimises −½ E_q[log D(z)] − ½ E_perm[log(1 − D(z̃))].

One backward pass trains both: the TC term reaches the encoder through z but not the
discriminator's weights (they enter it detached), and the discriminator's loss sees z detached,
so it never moves the encoder. :class:`FactorVAE` holds the discriminator beside the
autoencoder; the training loop gives its weights an Adam of their own
(:class:`vae_atlas.training.FactorVAETrainer`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from vae_atlas.config import ModelConfig
from vae_atlas.models.vae import AutoEncoder, LossTerms, gaussian_terms

# Kim & Mnih's discriminator activation
_LEAKY_SLOPE = 0.2


class FactorDiscriminator(nn.Module):
    """MLP codes (B, D) -> logits (B,) of "drawn from q(z)" against "dimensions shuffled"."""

    def __init__(self, latent_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for out in hidden:
            layers += [nn.Linear(width, out), nn.LeakyReLU(_LEAKY_SLOPE)]
            width = out
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).squeeze(1)


class FactorVAE(AutoEncoder):
    """The autoencoder of ``objective="factor-vae"`` with its discriminator (built last, so the
    autoencoder's weights start as any other objective's with the same seed)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(cfg)
        self.discriminator = FactorDiscriminator(cfg.latent_dim, cfg.factor_hidden)

    def autoencoder_parameters(self) -> list[nn.Parameter]:
        """Every weight but the discriminator's, in :meth:`parameters` order."""
        return [p for name, p in self.named_parameters() if not name.startswith("discriminator.")]


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z (B, D) with each column shuffled by its own random permutation of the batch: samples
    of the product of the marginals Π_d q(z_d) when the rows are samples of q(z)."""
    keys = torch.rand(z.shape, generator=generator, device=z.device)  # (B, D)
    order = torch.argsort(keys, dim=0, stable=True)  # (B, D): one permutation per column
    return torch.gather(z, 0, order)


def discriminator_loss(logits_joint: torch.Tensor, logits_permuted: torch.Tensor) -> torch.Tensor:
    """−½ mean log D(z) − ½ mean log(1 − D(z̃)) with D = sigmoid(logits), in nats; logits (B,)."""
    # −log sigmoid(ℓ) = softplus(−ℓ) and −log(1 − sigmoid(ℓ)) = softplus(ℓ), without overflow
    return 0.5 * (F.softplus(-logits_joint).mean() + F.softplus(logits_permuted).mean())


def factor_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    kl_weight: float,
    dataset_size: int | None,
    generator: torch.Generator | None,
) -> LossTerms:
    """FactorVAE loss terms of the batch x (B, C, H, W). ``loss`` = recon + w·KL + γ·TC estimate
    (the autoencoder's objective, w the warm-up's KL weight) + the discriminator's loss, each
    part reaching only its own weights; ``kl`` is the closed-form KL, so ``neg_elbo`` is the
    true −ELBO."""
    del dataset_size  # the discriminator estimates the TC from the batch alone
    if not isinstance(model, FactorVAE):
        raise TypeError("the factor-vae loss needs a FactorVAE (build it with build_model)")
    disc = model.discriminator
    terms = gaussian_terms(model, x, mu, logvar, generator)
    frozen = {name: p.detach() for name, p in disc.named_parameters()}
    tc = functional_call(disc, frozen, (terms.z,)).mean()
    codes = terms.z.detach()
    disc_loss = discriminator_loss(disc(codes), disc(permute_dims(codes, generator)))
    vae_part = terms.recon + kl_weight * terms.kl
    return terms.with_loss(vae_part + model.cfg.factor_gamma * tc + disc_loss)
