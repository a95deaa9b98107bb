"""The conditional VAE (Sohn et al. 2015; Kingma et al. 2014's M2 with the label observed):
encoder q(z | x, y), decoder p(x | z, y), prior N(0, I), with y the class label as a one-hot
vector. Because the decoder is told the class, z is free to hold everything else — the
handwriting, not the digit — so the same z decoded under every class writes every digit in one
hand, and the codes of different classes overlap instead of forming clusters.

The conditioning seam of the analysis protocol: a conditional model has ``n_classes`` and takes
the labels (B,) as ``y`` in ``encode(x, y)``, ``decode(z, y)``, ``log_px_given_z(x, z, y)`` and
``loss(x, y=...)``; :func:`is_conditional` tells the analysis to pass them.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vae_atlas.config import ModelConfig
from vae_atlas.models.conv import ConvDecoder, ConvEncoder
from vae_atlas.models.likelihood import build_likelihood
from vae_atlas.models.mlp import ACTIVATIONS, MLPDecoder, MLPEncoder
from vae_atlas.models.vae import AutoEncoder, LossTerms, vae_loss, widened


def is_conditional(model: nn.Module) -> bool:
    """Whether ``model`` encodes and decodes given a class label (see the module docstring)."""
    return int(getattr(model, "n_classes", 0) or 0) > 0


class ConditionalAutoEncoder(AutoEncoder):
    """A cvae built from one :class:`ModelConfig` (objective ``cvae``, ``n_classes`` ≥ 2).

    The encoder's features of x meet the one-hot label in a last linear layer that outputs
    (μ, log σ²); the decoder reads the code z concatenated with the one-hot label.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        nn.Module.__init__(self)  # the parts differ from AutoEncoder's; its methods are shared
        if cfg.n_classes < 2:
            raise ValueError(
                f"a cvae needs model.n_classes >= 2 (the label's one-hot size), got {cfg.n_classes}"
            )
        self.cfg = cfg
        self.latent_dim = cfg.latent_dim
        self.image_shape = cfg.image_shape
        self.n_classes = cfg.n_classes
        enc_cls, dec_cls = (
            (MLPEncoder, MLPDecoder) if cfg.family == "mlp" else (ConvEncoder, ConvDecoder)
        )
        width = cfg.hidden[-1]
        self.encoder = enc_cls(cfg.image_shape, cfg.hidden, width, cfg.activation)
        self.encoder_act = ACTIVATIONS[cfg.activation]()
        self.encoder_head = nn.Linear(width + cfg.n_classes, 2 * cfg.latent_dim)
        self.decoder = dec_cls(
            cfg.image_shape, cfg.hidden, cfg.latent_dim + cfg.n_classes, cfg.activation
        )
        self.likelihood = build_likelihood(
            cfg.likelihood, sigma=cfg.sigma, learn_sigma=cfg.learn_sigma
        )

    def one_hot(self, y: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """Labels (B,) -> one-hot rows (B, n_classes) in ``like``'s dtype and device."""
        if y is None:
            raise ValueError("a cvae encodes and decodes given the class: pass y, the labels (B,)")
        y = torch.as_tensor(y, device=like.device).long()
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.n_classes):
            raise ValueError(f"labels must be classes 0..{self.n_classes - 1}")
        return F.one_hot(y, self.n_classes).to(like.dtype)

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, C, H, W) and labels (B,) -> posterior means, log-variances (B, D)."""
        h = self.encoder_act(self.encoder(x))  # (B, width)
        h = self.encoder_head(torch.cat([h, self.one_hot(y, h)], dim=1))  # (B, 2D)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def decode_params(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (B, D) under labels (B,) -> likelihood parameters (B, C, H, W)."""
        return self.decoder(torch.cat([z, self.one_hot(y, z)], dim=1))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (B, D) under labels (B,) -> mean images (B, C, H, W) in [0, 1]."""
        return self.likelihood.mean(self.decode_params(z, y))

    def log_px_given_z(
        self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """log p(x | z, y) in nats (B,)."""
        return self.likelihood.log_prob(x, widened(self.decode_params(z, y)))

    def loss(
        self,
        x: torch.Tensor,
        *,
        y: torch.Tensor | None = None,
        kl_weight: float = 1.0,
        capacity: float = 0.0,
        k: int = 1,
        generator: torch.Generator | None = None,
    ) -> LossTerms:
        """−ELBO of a batch x (B, C, H, W) with labels y (B,): the VAE loss of
        :func:`~vae_atlas.models.vae.vae_loss` with both networks told the class."""
        del k
        mu, logvar = self.encode(x, y)
        labelled = _Labelled(self, y)
        return vae_loss(labelled, x, widened(mu), widened(logvar), kl_weight, capacity, generator)


class _Labelled:
    """The model's likelihood with the labels bound, as :func:`vae_loss` calls it."""

    def __init__(self, model: ConditionalAutoEncoder, y: torch.Tensor | None) -> None:
        self.model, self.y = model, y

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.model.log_px_given_z(x, z, self.y)
