"""Training: the seeded, resumable loop (:func:`train`), its schedules and held-out evaluation."""

from vae_atlas.training.evaluation import ElboSummary, evaluate_elbo
from vae_atlas.training.loop import (
    TrainingDiverged,
    TrainingError,
    TrainingInterrupted,
    TrainResult,
    epoch_line,
    load_state,
    resolve_device,
    train,
)
from vae_atlas.training.schedules import capacity_at, kl_weight_at, lr_at

__all__ = [
    "ElboSummary",
    "TrainResult",
    "TrainingDiverged",
    "TrainingError",
    "TrainingInterrupted",
    "capacity_at",
    "epoch_line",
    "evaluate_elbo",
    "kl_weight_at",
    "load_state",
    "lr_at",
    "resolve_device",
    "train",
]
