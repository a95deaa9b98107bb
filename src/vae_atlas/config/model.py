"""The model section of a run's configuration: architecture, objective and likelihood, with the
defaults that depend on the family or the objective resolved on creation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from vae_atlas.config.choices import (
    ACTIVATIONS,
    CONDITIONS,
    CONV_IMAGE_SIZES,
    DEFAULT_BETA,
    DEFAULT_HIDDEN,
    DIP_DIAGONAL_FACTOR,
    DIP_TYPES,
    DISENTANGLING,
    FAMILIES,
    LIKELIHOODS,
    OBJECTIVE_FIELDS,
    OBJECTIVES,
    TC_ESTIMATORS,
    VQ_HIDDEN,
)
from vae_atlas.config.validation import ConfigError, _check_choice, _check_int, _check_positive


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Architecture, objective and likelihood of an autoencoder.

    ``image_shape`` is (channels, height, width). ``hidden`` lists the MLP widths (encoder order;
    the decoder mirrors it) or the conv channels per stride-2 stage; left out (None) it is the
    family's default (:data:`DEFAULT_HIDDEN`). ``beta`` left out is the objective's default
    (:data:`DEFAULT_BETA`: 4 for ``beta-vae``, else 1). ``capacity_max`` > 0 turns on
    the capacity annealing of Burgess et al. (2018): the KL is pulled towards a target C that
    grows linearly from 0 to ``capacity_max`` nats over ``capacity_steps`` optimiser steps.

    Disentangling objectives (each field applies to its objective only):

    * ``beta-tcvae``: the KL split into index-code MI, total correlation and dimension-wise KL,
      weighted ``tc_alpha``, ``tc_beta``, ``tc_gamma`` (Chen et al. 2018 use α = γ = 1 and
      vary β; 6 is in the range they report disentangling dSprites); ``tc_estimator`` is the
      estimator of log q(z): ``mss`` (minibatch stratified sampling, the authors' recommendation)
      or ``mws`` (minibatch weighted sampling).
    * ``dip-vae``: ``dip_type`` ``i`` penalises the covariance of the posterior means, ``ii``
      that of the aggregate posterior; off-diagonal weight ``dip_lambda_od`` and diagonal weight
      ``dip_lambda_d`` (left out: 10 λ_od for i, λ_od for ii, the paper's ratios; λ_od = 10 is
      its dSprites setting for type i).
    * ``factor-vae``: total-correlation weight ``factor_gamma`` (in the range [10, 100] Kim &
      Mnih 2018 report for dSprites), the discriminator's Adam learning rate ``factor_lr``
      (theirs: 1e-4, with betas 0.5, 0.9) and hidden widths ``factor_hidden`` (theirs: 5 × 1000
      with leaky ReLU).

    A ``cvae`` is told each image's ``condition``: its class label (``n_classes``, the one-hot
    size) or its attributes (``condition_attributes``, the table's columns in the order the
    model reads them).
    """

    family: str = "mlp"
    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] | None = None
    activation: str = "relu"
    objective: str = "vae"
    beta: float | None = None
    capacity_max: float = 0.0
    capacity_steps: int = 10_000
    likelihood: str = "bernoulli"
    sigma: float = 0.1
    learn_sigma: bool = False
    iwae_k: int = 1
    # vamp: the VampPrior's number of pseudo-inputs K; hvae: the lower level's (z1) size
    pseudo_inputs: int = 100
    lower_latent_dim: int = 16
    codebook_size: int = 128
    n_classes: int = 0  # cvae: the label's one-hot size, set from the dataset's classes
    # cvae: "labels" or "attributes" (None: labels where the dataset has them, else attributes),
    # and the attributes conditioned on, in order (empty: every attribute of the dataset)
    condition: str | None = None
    condition_attributes: tuple[str, ...] = ()
    tc_alpha: float = 1.0
    tc_beta: float = 6.0
    tc_gamma: float = 1.0
    tc_estimator: str = "mss"
    dip_type: str = "i"
    dip_lambda_od: float = 10.0
    dip_lambda_d: float | None = None
    factor_gamma: float = 35.0
    factor_lr: float = 1e-4
    factor_hidden: tuple[int, ...] = (1000, 1000, 1000, 1000, 1000)

    def __post_init__(self) -> None:
        _check_choice("model.family", self.family, FAMILIES)
        _check_choice("model.objective", self.objective, OBJECTIVES)
        _check_objective_fields(self)
        # the one place a default depends on another field: resolved here, so every config (from
        # Python, the CLI or JSON) holds concrete values and compares equal to its spelled-out form
        if self.hidden is None:
            hidden = VQ_HIDDEN if self.objective == "vq-vae" else DEFAULT_HIDDEN[self.family]
            object.__setattr__(self, "hidden", hidden)
        if self.beta is None:
            object.__setattr__(self, "beta", DEFAULT_BETA[self.objective])
        _check_choice("model.likelihood", self.likelihood, LIKELIHOODS)
        _check_choice("model.activation", self.activation, ACTIVATIONS)
        _check_int("model.latent_dim", self.latent_dim, 1)
        if len(self.image_shape) != 3 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in self.image_shape
        ):
            raise ConfigError(
                f"model.image_shape={self.image_shape!r} must be (C, H, W) > 0",
                field="model.image_shape",
            )
        if not self.hidden:
            raise ConfigError("model.hidden must list at least one width", field="model.hidden")
        for width in self.hidden:
            _check_int("model.hidden", width, 1)
        _check_positive("model.beta", self.beta, allow_zero=True)
        _check_positive("model.capacity_max", self.capacity_max, allow_zero=True)
        _check_int("model.capacity_steps", self.capacity_steps, 1)
        _check_positive("model.sigma", self.sigma)
        _check_int("model.iwae_k", self.iwae_k, 1)
        _check_int("model.pseudo_inputs", self.pseudo_inputs, 1)
        _check_int("model.lower_latent_dim", self.lower_latent_dim, 1)
        _check_int("model.codebook_size", self.codebook_size, 2)
        _check_int("model.n_classes", self.n_classes, 0)
        if self.n_classes and self.objective != "cvae":
            raise ConfigError(
                f"model.n_classes={self.n_classes} applies to objective='cvae' only",
                field="model.n_classes",
            )
        _check_condition(self)
        if self.objective == "vq-vae" and self.family != "conv":
            raise ConfigError(
                "model.objective='vq-vae' needs family='conv' (--family conv): its encoder "
                "maps an image to a grid of codes",
                field="model.family",
            )
        if self.objective == "vae" and self.beta != 1.0:
            raise ConfigError(
                f"model.beta={self.beta} needs objective='beta-vae' (vae means β=1)",
                field="model.beta",
            )
        if self.objective in DISENTANGLING:
            for name, value in (("beta", self.beta - 1.0), ("capacity_max", self.capacity_max)):
                if value:  # β ≠ 1 or a capacity: the KL's weight belongs to beta-vae
                    raise ConfigError(
                        f"model.{name}={getattr(self, name)} applies to objective='beta-vae', "
                        f"not {self.objective!r} (it weighs its own terms)",
                        field=f"model.{name}",
                    )
        if self.family == "conv" and self.objective != "vq-vae":
            c, h, w = self.image_shape
            if c not in (1, 3) or h != w or h not in CONV_IMAGE_SIZES:
                sizes = ", ".join(f"{s}x{s}" for s in CONV_IMAGE_SIZES)
                raise ConfigError(
                    f"model.image_shape={self.image_shape!r}: the conv family supports 1 or 3 "
                    f"channels at {sizes} (use family='mlp' for other sizes)",
                    field="model.image_shape",
                )

    @property
    def stochastic(self) -> bool:
        """Whether the encoder outputs a distribution (False for a plain autoencoder)."""
        return self.objective not in ("ae", "vq-vae")

    @property
    def objective_label(self) -> str:
        """The objective with the weights that set it apart, e.g. ``beta-vae (β = 4)``."""
        settings = {
            "beta-vae": f"β = {self.beta:g}",
            "beta-tcvae": f"α = {self.tc_alpha:g}, β = {self.tc_beta:g}, γ = {self.tc_gamma:g}, "
            f"{self.tc_estimator.upper()}",
            "dip-vae": f"type {self.dip_type}, λ_od = {self.dip_lambda_od:g}, "
            f"λ_d = {self.dip_lambda_d or 0:g}",
            "factor-vae": f"γ = {self.factor_gamma:g}",
        }.get(self.objective)
        return self.objective if settings is None else f"{self.objective} ({settings})"


def _check_condition(cfg: ModelConfig) -> None:
    """A cvae's condition: labels (with ``n_classes``) or named, distinct attributes."""
    if cfg.condition is not None:
        _check_choice("model.condition", cfg.condition, CONDITIONS)
    if cfg.condition == "labels" and cfg.condition_attributes:
        raise ConfigError(
            "model.condition_attributes applies to condition='attributes', not 'labels'",
            field="model.condition_attributes",
        )
    if cfg.condition == "attributes" and cfg.n_classes:
        raise ConfigError(
            f"model.n_classes={cfg.n_classes} applies to condition='labels', not 'attributes'",
            field="model.n_classes",
        )
    names = cfg.condition_attributes
    if any(not name for name in names) or len(set(names)) != len(names):
        raise ConfigError(
            f"model.condition_attributes={list(names)!r} must be distinct, non-empty names",
            field="model.condition_attributes",
        )


def _check_objective_fields(cfg: ModelConfig) -> None:
    """Validate the disentangling objectives' fields, resolve ``dip_lambda_d``, and refuse a
    field set for an objective it does not tune."""
    for name in ("tc_alpha", "tc_beta", "tc_gamma", "dip_lambda_od", "factor_gamma"):
        _check_positive(f"model.{name}", getattr(cfg, name), allow_zero=True)
    _check_positive("model.factor_lr", cfg.factor_lr)
    _check_choice("model.tc_estimator", cfg.tc_estimator, TC_ESTIMATORS)
    _check_choice("model.dip_type", cfg.dip_type, DIP_TYPES)
    if not cfg.factor_hidden:
        raise ConfigError(
            "model.factor_hidden must list at least one width", field="model.factor_hidden"
        )
    for width in cfg.factor_hidden:
        _check_int("model.factor_hidden", width, 1)
    if cfg.dip_lambda_d is not None:
        _check_positive("model.dip_lambda_d", cfg.dip_lambda_d, allow_zero=True)
    elif cfg.objective == "dip-vae":
        factor = DIP_DIAGONAL_FACTOR[cfg.dip_type]
        object.__setattr__(cfg, "dip_lambda_d", factor * cfg.dip_lambda_od)
    defaults = {f.name: f.default for f in dataclasses.fields(cfg)}
    for name, owner in OBJECTIVE_FIELDS.items():
        value = getattr(cfg, name)
        if cfg.objective != owner and value != defaults[name]:
            raise ConfigError(
                f"model.{name}={value!r} applies to objective={owner!r}, not {cfg.objective!r}",
                field=f"model.{name}",
            )
