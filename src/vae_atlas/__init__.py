"""vae-atlas: train AE / VAE / β-VAE models and see what their latent space learned.

The public API, re-exported from the modules that define it::

    import vae_atlas as va
    result = va.train(va.RunConfig(), "runs/demo")
    run = va.load_run("runs/demo")
"""

from vae_atlas.checkpoint import RunFileError
from vae_atlas.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import DataError, Dataset, ImageSet, load_dataset
from vae_atlas.models import AutoEncoder, LatentModel, as_latent_model, build_model
from vae_atlas.run import Run, Snapshot, load_run
from vae_atlas.training import TrainingDiverged, TrainingError, TrainResult, train

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
