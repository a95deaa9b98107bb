"""Frozen configuration objects and their JSON round-trip.

A run is fully described by one :class:`RunConfig` (data + model + training). Every config is a
frozen, keyword-only dataclass that validates itself in ``__post_init__`` and never reads the
environment. ``RunConfig.to_json`` / ``RunConfig.from_json`` carry a ``kind`` and a
``schema_version`` so that a run written by another version of vae-atlas either loads or says why
not.

One module per topic: ``choices`` (the values fields may take, family and objective defaults),
``validation`` (:class:`ConfigError` and the shared checks), ``data``, ``model`` and ``train``
(the three sections) and ``run`` (:class:`RunConfig` and its JSON); every public name is
importable from ``vae_atlas.config``.
"""

from __future__ import annotations

from vae_atlas.config.choices import (
    ACTIVATIONS,
    CONDITIONS,
    CONV_IMAGE_SIZES,
    DATASETS,
    DEFAULT_BETA,
    DEFAULT_HIDDEN,
    DEVICES,
    DIP_DIAGONAL_FACTOR,
    DIP_TYPES,
    DISENTANGLING,
    FAMILIES,
    LIKELIHOODS,
    MAX_SEED,
    NAN_POLICIES,
    OBJECTIVE_FIELDS,
    OBJECTIVES,
    PRECISIONS,
    SINGLE_PROCESS_OBJECTIVES,
    TC_ESTIMATORS,
    VQ_HIDDEN,
)
from vae_atlas.config.data import DataConfig
from vae_atlas.config.model import ModelConfig
from vae_atlas.config.run import SCHEMA_VERSION, RunConfig
from vae_atlas.config.train import TrainConfig
from vae_atlas.config.validation import ConfigError

__all__ = [
    "ACTIVATIONS",
    "CONDITIONS",
    "CONV_IMAGE_SIZES",
    "DATASETS",
    "DEFAULT_BETA",
    "DEFAULT_HIDDEN",
    "DEVICES",
    "DIP_DIAGONAL_FACTOR",
    "DIP_TYPES",
    "DISENTANGLING",
    "FAMILIES",
    "LIKELIHOODS",
    "MAX_SEED",
    "NAN_POLICIES",
    "OBJECTIVES",
    "OBJECTIVE_FIELDS",
    "PRECISIONS",
    "SCHEMA_VERSION",
    "SINGLE_PROCESS_OBJECTIVES",
    "TC_ESTIMATORS",
    "VQ_HIDDEN",
    "ConfigError",
    "DataConfig",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
]
