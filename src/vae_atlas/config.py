"""Frozen configuration objects and their JSON round-trip.

A run is fully described by one :class:`RunConfig` (data + model + training). Every config is a
frozen, keyword-only dataclass that validates itself in ``__post_init__`` and never reads the
environment. ``RunConfig.to_json`` / ``RunConfig.from_json`` carry a ``kind`` and a
``schema_version`` so that a run written by another version of vae-atlas either loads or says why
not.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 2

DATASETS = ("digits", "mnist", "fashion-mnist", "shapes", "folder", "store", "celeba")
FAMILIES = ("mlp", "conv")
OBJECTIVES = (
    "ae",
    "vae",
    "beta-vae",
    "iwae",
    "vamp",
    "hvae",
    "cvae",
    "vq-vae",
    "beta-tcvae",
    "dip-vae",
    "factor-vae",
)
LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATIONS = ("relu", "tanh", "elu", "leaky_relu")
DEVICES = ("auto", "cpu", "cuda")
# autocast precisions: fp32 (none), bf16 (CPU and CUDA), fp16 (CUDA only, with a GradScaler)
PRECISIONS = ("fp32", "bf16", "fp16")
NAN_POLICIES = ("stop", "skip")
# A run's seed is handed to numpy (32-bit seeds) as well as hashed into torch's streams
# (vae_atlas.seeds); 2**32 - 1 keeps it in range for both.
MAX_SEED = 2**32 - 1
# Family-dependent defaults: MLP widths vs conv channels per stride-2 stage, and the KL weight
# of each objective (β = 4 is the usual β-VAE starting point, Higgins et al. 2017).
DEFAULT_HIDDEN = {"mlp": (512, 256), "conv": (32, 64, 128)}
CONV_IMAGE_SIZES = (28, 32, 64, 128)  # square sides the conv family supports, smallest first
# (vq-vae: beta is the commitment weight, 0.25 as in van den Oord et al. 2017.)
# The disentangling objectives weigh their own terms (tc_*, dip_*, factor_*), so their KL weight
# stays 1: β-TCVAE (Chen et al. 2018), DIP-VAE (Kumar et al. 2018), FactorVAE (Kim & Mnih 2018).
DISENTANGLING = ("beta-tcvae", "dip-vae", "factor-vae")
DEFAULT_BETA = {
    "ae": 1.0,
    "vae": 1.0,
    "beta-vae": 4.0,
    "iwae": 1.0,
    "vamp": 1.0,
    "hvae": 1.0,
    "cvae": 1.0,
    "vq-vae": 0.25,
    **dict.fromkeys(DISENTANGLING, 1.0),
}
# vq-vae's conv stages: two by default, a 7x7 grid of codes on 28x28 images
VQ_HIDDEN = (32, 64)
# objectives the distributed step cannot train: beta-tcvae's loss needs the training set's size,
# which it does not pass, factor-vae's discriminator needs FactorVAETrainer's optimiser, and cvae's
# step needs each batch's labels
SINGLE_PROCESS_OBJECTIVES = ("beta-tcvae", "factor-vae", "cvae")
# β-TCVAE's estimators of log q(z): minibatch stratified / weighted sampling
TC_ESTIMATORS = ("mss", "mws")
DIP_TYPES = ("i", "ii")
# DIP-VAE's diagonal weight λ_d per type, as a multiple of λ_od (the paper's ratios)
DIP_DIAGONAL_FACTOR = {"i": 10.0, "ii": 1.0}
# The fields that tune one objective; given for another, they would be silently ignored
OBJECTIVE_FIELDS = {
    **dict.fromkeys(("tc_alpha", "tc_beta", "tc_gamma", "tc_estimator"), "beta-tcvae"),
    **dict.fromkeys(("dip_type", "dip_lambda_od", "dip_lambda_d"), "dip-vae"),
    **dict.fromkeys(("factor_gamma", "factor_lr", "factor_hidden"), "factor-vae"),
    **dict.fromkeys(("condition", "condition_attributes"), "cvae"),
}
# what a cvae is told about each image: its class label (one-hot) or its attribute vector
CONDITIONS = ("labels", "attributes")


class ConfigError(ValueError):
    """A configuration value, or a config file, is invalid; the message names the field.

    ``field`` is the dotted name (``train.lr``) when one value is at fault, so a front end can
    name its own spelling of it (the CLI says ``--lr``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}", field=name)


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}={value!r} must be a number", field=name)
    if not math.isfinite(value):
        raise ConfigError(f"{name}={value!r} must be a finite number", field=name)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name}={value!r} must be {'>= 0' if allow_zero else '> 0'}", field=name)


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}={value!r} must be an integer >= {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value!r} must be at most {maximum}", field=name)


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Which dataset to load and how to prepare it.

    ``image_size`` / ``channels`` apply to ``folder`` and ``shapes`` (other datasets have a fixed
    geometry). ``data_dir=None`` means: ``$VAE_ATLAS_DATA`` or the user cache dir, resolved by the
    CLI or :func:`vae_atlas.data.resolve_data_dir`, never here. ``val_size`` training images are
    held out for validation (seeded by ``seed``): ``None`` means the dataset's default (5,000 of
    MNIST's 60,000, else 10 %, see :func:`vae_atlas.data.validation_size`), 0 none; CelebA's
    default is its official "valid" partition. ``attributes`` names an attribute table for an
    image folder (:mod:`vae_atlas.data.attributes`) and ``attributes_sha256`` the checksum it had
    when the run was made, so a later load notices an edited table.
    """

    name: str = "digits"
    data_dir: str | None = None
    verify: bool = True
    download: bool = False
    base_url: str | None = None
    image_size: int | None = None
    channels: int | None = None
    n_samples: int | None = None
    test_fraction: float = 0.2
    val_size: int | None = None
    seed: int = 0
    attributes: str | None = None
    attributes_sha256: str | None = None

    def __post_init__(self) -> None:
        _check_choice("data.name", self.name, DATASETS)
        if self.image_size is not None:
            _check_int("data.image_size", self.image_size, 4)
        if self.channels is not None and self.channels not in (1, 3):
            raise ConfigError(
                f"data.channels={self.channels!r} must be 1 or 3", field="data.channels"
            )
        if self.n_samples is not None:
            _check_int("data.n_samples", self.n_samples, 2)
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(
                f"data.test_fraction={self.test_fraction!r} must be in (0, 1)",
                field="data.test_fraction",
            )
        if self.val_size is not None:
            _check_int("data.val_size", self.val_size, 0)
        _check_int("data.seed", self.seed, 0, MAX_SEED)
        if self.name in ("folder", "store") and not self.data_dir:
            raise ConfigError(
                f"data.data_dir is required for the {self.name!r} dataset", field="data.data_dir"
            )
        if self.attributes is not None and self.name != "folder":
            raise ConfigError(
                f"data.attributes applies to the 'folder' dataset, not {self.name!r}",
                field="data.attributes",
            )


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


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Optimisation settings. ``warmup_epochs`` ramps the KL weight linearly from 0 to β."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 3e-3  # with the cosine decay below; benchmarks/recipe_sweep.py, docs/train_speed.md
    lr_final_fraction: float = 0.05
    weight_decay: float = 0.0
    adam_eps: float = 1e-8  # Adam's ε (Burda et al. 2016 used 1e-4)
    warmup_epochs: float = 0.0
    seed: int = 0
    device: str = "auto"
    probe_size: int = 2000
    nan_policy: str = "stop"
    dynamic_binarization: bool = False
    grad_clip: float | None = None
    eval_batch_size: int = 2048
    # stop when validation −ELBO has not improved for this many epochs (None: train them all)
    early_stop: int | None = None
    precision: str = "fp32"
    compile: bool = False  # torch.compile the training loss (forward and backward)
    channels_last: bool = False  # conv models: NHWC memory layout (README: measured speed-up)

    def __post_init__(self) -> None:
        _check_int("train.epochs", self.epochs, 1)
        _check_int("train.batch_size", self.batch_size, 1)
        _check_positive("train.lr", self.lr)
        _check_positive("train.lr_final_fraction", self.lr_final_fraction)
        _check_positive("train.weight_decay", self.weight_decay, allow_zero=True)
        _check_positive("train.adam_eps", self.adam_eps)
        _check_positive("train.warmup_epochs", self.warmup_epochs, allow_zero=True)
        _check_int("train.seed", self.seed, 0, MAX_SEED)
        _check_choice("train.device", self.device, DEVICES)
        _check_int("train.probe_size", self.probe_size, 0)
        _check_choice("train.nan_policy", self.nan_policy, NAN_POLICIES)
        _check_int("train.eval_batch_size", self.eval_batch_size, 1)
        if self.grad_clip is not None:
            _check_positive("train.grad_clip", self.grad_clip)
        if self.early_stop is not None:
            _check_int("train.early_stop", self.early_stop, 1)
        _check_choice("train.precision", self.precision, PRECISIONS)


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything needed to rebuild a run's model and data pipeline."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "vae-atlas.run",
            "schema_version": SCHEMA_VERSION,
            "data": dataclasses.asdict(self.data),
            "model": dataclasses.asdict(self.model),
            "train": dataclasses.asdict(self.train),
        }

    def to_json(self) -> str:
        # strict JSON: validation keeps NaN/Infinity out, and allow_nan=False makes sure of it
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, raw: object, *, source: str = "config") -> RunConfig:
        """Rebuild a config, refusing unknown kinds, versions, keys and wrongly typed values."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a JSON object, got {type(raw).__name__}")
        if raw.get("kind") != "vae-atlas.run":
            raise ConfigError(f"{source}: kind={raw.get('kind')!r} is not 'vae-atlas.run'")
        version = raw.get("schema_version")
        if version != SCHEMA_VERSION:
            raw = _migrate(raw, version, source)
        unknown = set(raw) - {"kind", "schema_version", "data", "model", "train"}
        if unknown:
            raise ConfigError(f"{source}: unknown top-level keys {sorted(unknown)}")
        return cls(
            data=_section(DataConfig, raw.get("data", {}), f"{source}: data"),
            model=_section(ModelConfig, raw.get("model", {}), f"{source}: model"),
            train=_section(TrainConfig, raw.get("train", {}), f"{source}: train"),
        )

    @classmethod
    def from_json(cls, text: str, *, source: str = "config.json") -> RunConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_dict(raw, source=source)


def _migrate(raw: dict[str, Any], version: object, source: str) -> dict[str, Any]:
    """Bring an older config up to SCHEMA_VERSION, or explain why that is impossible."""
    if version == 1:  # written before validation splits existed: it trained on all of train
        data = raw.get("data", {})
        if isinstance(data, dict) and "val_size" not in data:
            data = {**data, "val_size": 0}
        return {**raw, "schema_version": SCHEMA_VERSION, "data": data}
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ConfigError(
            f"{source}: schema_version {version} was written by a newer vae-atlas "
            f"(this one reads up to {SCHEMA_VERSION}); upgrade vae-atlas to load it"
        )
    raise ConfigError(
        f"{source}: schema_version={version!r} is not a version vae-atlas knows "
        f"(expected {SCHEMA_VERSION})"
    )


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
}


def _section(cls: type, raw: object, where: str) -> Any:
    """Build one config section from JSON, checking keys and value types before validation."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(str(fields[name].type), value, f"{where}.{name}")
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None  # a file's fault, not a flag's


def _coerce(type_text: str, value: Any, where: str) -> Any:
    optional = "None" in type_text
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where} must not be null")
    if type_text.startswith("tuple[str"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}={value!r} must be a list of strings")
        return tuple(value)
    if type_text.startswith("tuple"):
        if not isinstance(value, list):
            raise ConfigError(f"{where}={value!r} must be a list")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{where}={value!r} must be a list of integers")
        return tuple(value)
    base = type_text.split("|")[0].strip()
    allowed = _TYPES.get(base)
    if allowed is None:
        return value
    if isinstance(value, bool) and base != "bool":
        raise ConfigError(f"{where}={value!r} must be {base}, not a boolean")
    if not isinstance(value, allowed):
        raise ConfigError(f"{where}={value!r} must be {base}, not {type(value).__name__}")
    if base != "float":
        return value
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range, e.g. 400 digits
        raise ConfigError(f"{where} is too large for a float") from None
