"""The conditional VAE (Sohn et al. 2015; Kingma et al. 2014's M2 with the label observed):
encoder q(z | x, y), decoder p(x | z, y), prior N(0, I), with y the class label as a one-hot
vector or, where the images come with an attribute table (CelebA's 40 attributes, an image
folder's ``--attributes`` table), a vector of attributes. Because the decoder is told y, z is
free to hold everything else — the handwriting, not the digit — so the same z decoded under
every class writes every digit in one hand, and the codes of different classes overlap instead
of forming clusters.

The conditioning seam of the analysis protocol: a conditional model has ``n_classes`` (labels)
or ``attribute_names`` (attributes) and takes the condition as ``y`` in ``encode(x, y)``,
``decode(z, y)``, ``log_px_given_z(x, z, y)`` and ``loss(x, y=...)``: labels (B,) as integers,
or attribute rows (B, A) in the table's units (binary attributes 0/1; continuous ones as
they are, standardised inside the model by the training set's mean and standard deviation).
:func:`is_conditional` tells the analysis to pass it, :func:`image_conditions` finds it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vae_atlas.config import ConfigError, ModelConfig
from vae_atlas.data import Dataset, ImageSet
from vae_atlas.models.conv import ConvDecoder, ConvEncoder
from vae_atlas.models.likelihood import build_likelihood
from vae_atlas.models.mlp import ACTIVATIONS, MLPDecoder, MLPEncoder
from vae_atlas.models.vae import AutoEncoder, LossTerms, vae_loss, widened


def is_conditional(model: nn.Module) -> bool:
    """Whether ``model`` encodes and decodes given a condition (see the module docstring)."""
    return bool(int(getattr(model, "n_classes", 0) or 0) > 0 or attribute_names_of(model))


def attribute_names_of(model: nn.Module) -> tuple[str, ...]:
    """The attributes a cvae is conditioned on, in order; () for any other model."""
    return tuple(getattr(model, "attribute_names", ()) or ())


def image_conditions(model: nn.Module, images: ImageSet) -> torch.Tensor | None:
    """What a conditional model is told about each image of ``images``: the labels (N,) of a
    class cvae, the attributes (N, A) of an attribute cvae (a split of
    :func:`conditioned_dataset`, whose columns are the model's attributes); None when the images
    lack it or the model is not conditional."""
    if not is_conditional(model):
        return None
    if not attribute_names_of(model):
        return images.labels
    return images.attributes


def conditioned_dataset(data: Dataset, cfg: ModelConfig) -> Dataset:
    """``data`` with each split's attributes narrowed to the columns an attribute cvae is
    conditioned on (``cfg.condition_attributes``, in that order); unchanged for any other model.
    An unknown name is a :class:`ConfigError` naming it and listing the dataset's attributes."""
    wanted = cfg.condition_attributes
    if cfg.objective != "cvae" or not wanted:
        return data
    have = data.attribute_names or ()
    unknown = [name for name in wanted if name not in have]
    if unknown:
        valid = ", ".join(have) if have else "none"
        raise ConfigError(
            f"model.condition_attributes: {', '.join(map(repr, unknown))} "
            f"{'is not an attribute' if len(unknown) == 1 else 'are not attributes'} of "
            f"dataset {data.name!r} (its attributes: {valid})",
            field="model.condition_attributes",
        )
    if tuple(have) == tuple(wanted):
        return data
    columns = torch.as_tensor([have.index(name) for name in wanted])

    def narrow(split: ImageSet | None) -> ImageSet | None:
        if split is None:
            return None
        assert split.attributes is not None  # the dataset names its attributes
        return replace(split, attributes=split.attributes.index_select(1, columns))

    return replace(
        data,
        train=narrow(data.train),
        val=narrow(data.val),
        test=narrow(data.test),
        attribute_names=tuple(wanted),
    )


class ConditionalAutoEncoder(AutoEncoder):
    """A cvae built from one :class:`ModelConfig` (objective ``cvae``): ``n_classes`` ≥ 2 for
    labels, or ``condition_attributes`` for an attribute vector.

    The encoder's features of x meet the condition vector in a last linear layer that outputs
    (μ, log σ²); the decoder reads the code z concatenated with the condition vector. An
    attribute cvae keeps, per attribute, whether it is binary and the training set's shift and
    scale as buffers (``condition_binary``, ``condition_shift``, ``condition_scale`` (A,): 0 and
    1 for a binary attribute), so its checkpoint holds them with the weights.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        nn.Module.__init__(self)  # the parts differ from AutoEncoder's; its methods are shared
        self.attribute_names = cfg.condition_attributes  # () for labels (the config checks)
        if not self.attribute_names and cfg.n_classes < 2:
            raise ValueError(
                f"a cvae needs model.n_classes >= 2 (the label's one-hot size) or "
                f"model.condition_attributes, got n_classes={cfg.n_classes}"
            )
        self.cfg = cfg
        self.latent_dim = cfg.latent_dim
        self.image_shape = cfg.image_shape
        self.n_classes = 0 if self.attribute_names else cfg.n_classes
        size = len(self.attribute_names) or self.n_classes
        enc_cls, dec_cls = (
            (MLPEncoder, MLPDecoder) if cfg.family == "mlp" else (ConvEncoder, ConvDecoder)
        )
        width = cfg.hidden[-1]
        self.encoder = enc_cls(cfg.image_shape, cfg.hidden, width, cfg.activation)
        self.encoder_act = ACTIVATIONS[cfg.activation]()
        self.encoder_head = nn.Linear(width + size, 2 * cfg.latent_dim)
        self.decoder = dec_cls(cfg.image_shape, cfg.hidden, cfg.latent_dim + size, cfg.activation)
        self.likelihood = build_likelihood(
            cfg.likelihood, sigma=cfg.sigma, learn_sigma=cfg.learn_sigma
        )
        if self.attribute_names:
            self.register_buffer("condition_binary", torch.ones(size, dtype=torch.bool))
            self.register_buffer("condition_shift", torch.zeros(size))
            self.register_buffer("condition_scale", torch.ones(size))

    def fit_condition_scale(self, attributes: torch.Tensor) -> None:
        """Standardise each continuous attribute by its mean and standard deviation over
        ``attributes`` (N, A), the training set's; binary (0/1) ones stay as they are."""
        values = attributes.to(torch.float64)
        binary = ((values == 0) | (values == 1)).all(0)  # (A,)
        std = values.std(0, unbiased=False)
        shift = torch.where(binary, 0.0, values.mean(0))
        scale = torch.where(binary | (std == 0), 1.0, std)
        self.condition_binary.copy_(binary)
        self.condition_shift.copy_(shift.to(self.condition_shift))
        self.condition_scale.copy_(scale.to(self.condition_scale))

    def condition_vector(self, y: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """The condition y -> the rows (B, K) the networks read, in ``like``'s dtype and device:
        labels (B,) one-hot, attribute rows (B, A) standardised."""
        if y is None:
            what = "attributes (B, A)" if self.attribute_names else "labels (B,)"
            raise ValueError(f"a cvae encodes and decodes given its condition: pass y, the {what}")
        if self.attribute_names:
            return self._attribute_rows(y, like)
        y = torch.as_tensor(y, device=like.device).long()
        # torch.export (the ONNX graphs) cannot branch on a tensor's values: the exported graph
        # goes without this check
        exporting = torch.compiler.is_exporting()
        if not exporting and y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.n_classes):
            raise ValueError(f"labels must be classes 0..{self.n_classes - 1}")
        return F.one_hot(y, self.n_classes).to(like.dtype)

    def _attribute_rows(self, y: torch.Tensor | np.ndarray, like: torch.Tensor) -> torch.Tensor:
        y = torch.as_tensor(y, device=like.device)
        names = self.attribute_names
        if y.dim() != 2 or y.shape[1] != len(names):
            raise ValueError(
                f"this cvae is conditioned on {len(names)} attributes ({', '.join(names)}): "
                f"y must be rows (B, {len(names)}), got shape {tuple(y.shape)}"
            )
        rows = (y.to(self.condition_shift.dtype) - self.condition_shift) / self.condition_scale
        return rows.to(like.dtype)

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, C, H, W) and conditions y -> posterior means, log-variances (B, D)."""
        h = self.encoder_act(self.encoder(x))  # (B, width)
        h = self.encoder_head(torch.cat([h, self.condition_vector(y, h)], dim=1))  # (B, 2D)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def decode_params(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (B, D) under conditions y -> likelihood parameters (B, C, H, W)."""
        return self.decoder(torch.cat([z, self.condition_vector(y, z)], dim=1))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (B, D) under conditions y -> mean images (B, C, H, W) in [0, 1]."""
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
        """−ELBO of a batch x (B, C, H, W) with conditions y: the VAE loss of
        :func:`~vae_atlas.models.vae.vae_loss` with both networks told the condition."""
        del k
        mu, logvar = self.encode(x, y)
        labelled = _Labelled(self, y)
        return vae_loss(labelled, x, widened(mu), widened(logvar), kl_weight, capacity, generator)


class _Labelled:
    """The model's likelihood with the conditions bound, as :func:`vae_loss` calls it."""

    def __init__(self, model: ConditionalAutoEncoder, y: torch.Tensor | None) -> None:
        self.model, self.y = model, y

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.model.log_px_given_z(x, z, self.y)
