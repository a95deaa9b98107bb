"""vae-atlas: train AE / VAE / β-VAE models and see what their latent space learned.

The public API, re-exported from the modules that define it::

    import vae_atlas as va
    result = va.train(va.RunConfig(), "runs/demo")
    run = va.load_run("runs/demo")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vae_atlas.checkpoint import RunFileError
    from vae_atlas.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
    from vae_atlas.data import DataError, Dataset, ImageSet, load_dataset
    from vae_atlas.models import AutoEncoder, LatentModel, as_latent_model, build_model
    from vae_atlas.run import Run, Snapshot, load_run
    from vae_atlas.training import TrainingDiverged, TrainingError, TrainResult, train

# Imported on first use (PEP 562): ``import vae_atlas`` stays light, so the command line starts
# without torch and a Ctrl-C while torch loads reaches the CLI's own handler.
_HOMES = {
    "vae_atlas.checkpoint": ("RunFileError",),
    "vae_atlas.config": ("ConfigError", "DataConfig", "ModelConfig", "RunConfig", "TrainConfig"),
    "vae_atlas.data": ("DataError", "Dataset", "ImageSet", "load_dataset"),
    "vae_atlas.models": ("AutoEncoder", "LatentModel", "as_latent_model", "build_model"),
    "vae_atlas.run": ("Run", "Snapshot", "load_run"),
    "vae_atlas.training": ("TrainingDiverged", "TrainingError", "TrainResult", "train"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name == "explorer":  # the package, callable: va.explorer(run) is the notebook widget
        return importlib.import_module("vae_atlas.explorer")
    if name not in _HOME_OF:
        raise AttributeError(f"module 'vae_atlas' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME_OF[name]), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "AutoEncoder",
    "ConfigError",
    "DataConfig",
    "DataError",
    "Dataset",
    "ImageSet",
    "LatentModel",
    "ModelConfig",
    "Run",
    "RunConfig",
    "RunFileError",
    "Snapshot",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "TrainingError",
    "as_latent_model",
    "build_model",
    "load_dataset",
    "load_run",
    "train",
]
