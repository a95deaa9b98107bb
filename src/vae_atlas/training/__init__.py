"""Training: the seeded, resumable :func:`train`, its :class:`Trainer` (step, epoch, schedules),
early stopping and held-out evaluation."""

from vae_atlas.training.errors import TrainingDiverged, TrainingError, TrainingInterrupted
from vae_atlas.training.evaluation import ElboSummary, evaluate_elbo
from vae_atlas.training.heldout import HeldOutSets, binarization_seed, heldout_sets
from vae_atlas.training.loop import train
from vae_atlas.training.objective_trainers import FactorVAETrainer, TCVAETrainer
from vae_atlas.training.progress import epoch_line
from vae_atlas.training.rundir import load_state
from vae_atlas.training.schedules import capacity_at, kl_weight_at, lr_at
from vae_atlas.training.session import TrainResult
from vae_atlas.training.stopping import EarlyStopping
from vae_atlas.training.trainer import (
    EpochTotals,
    Schedule,
    Trainer,
    make_adam,
    resolve_device,
)

__all__ = [
    "EarlyStopping",
    "ElboSummary",
    "EpochTotals",
    "FactorVAETrainer",
    "HeldOutSets",
    "Schedule",
    "TCVAETrainer",
    "TrainResult",
    "Trainer",
    "TrainingDiverged",
    "TrainingError",
    "TrainingInterrupted",
    "binarization_seed",
    "capacity_at",
    "epoch_line",
    "evaluate_elbo",
    "heldout_sets",
    "kl_weight_at",
    "load_state",
    "lr_at",
    "make_adam",
    "resolve_device",
    "train",
]
