"""Trainers chosen by the objective: :class:`TCVAETrainer` hands β-TCVAE's loss the training
set's size; :class:`FactorVAETrainer` gives FactorVAE's discriminator its own Adam (Kim & Mnih
2018: learning rate 1e-4, betas 0.5 and 0.9, held constant).

The discriminator's weights are the model's (``discriminator.*``) and their Adam moments are a
second parameter group of the run's one optimiser, so the checkpoint keeps both with everything
else and ``--resume`` continues bit for bit. Adam updates every weight from its own moments
alone, so a group with its own learning rate and betas is an optimiser of its own.
"""

from __future__ import annotations

from typing import Any

import torch

from vae_atlas.config import SINGLE_PROCESS_OBJECTIVES, RunConfig
from vae_atlas.models.objectives import FactorVAE
from vae_atlas.training.errors import TrainingError
from vae_atlas.training.trainer import Trainer, make_adam

# Kim & Mnih (2018)'s discriminator Adam betas
DISCRIMINATOR_BETAS = (0.5, 0.9)


def factor_vae_adam(model: FactorVAE, config: RunConfig) -> torch.optim.Adam:
    """Adam with two parameter groups: the autoencoder's weights as the config says, then the
    discriminator's with ``model.factor_lr`` and :data:`DISCRIMINATOR_BETAS`, no weight decay."""
    tc = config.train
    optimizer = make_adam(
        model.autoencoder_parameters(), lr=tc.lr, weight_decay=tc.weight_decay, eps=tc.adam_eps
    )
    optimizer.add_param_group(
        {
            "params": list(model.discriminator.parameters()),
            "lr": config.model.factor_lr,
            "betas": DISCRIMINATOR_BETAS,
            "weight_decay": 0.0,
        }
    )
    return optimizer


class FactorVAETrainer(Trainer):
    """A :class:`Trainer` for ``factor-vae``: the autoencoder follows the run's learning-rate
    schedule, the discriminator keeps its own constant rate."""

    def __init__(
        self,
        model: FactorVAE,
        train_images: torch.Tensor,
        config: RunConfig,
        generator: torch.Generator,
        *,
        device: torch.device | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        if not isinstance(model, FactorVAE):
            raise TrainingError("factor-vae trains a FactorVAE (build it with build_model)")
        optimizer = optimizer or factor_vae_adam(model, config)
        super().__init__(model, train_images, config, generator, device=device, optimizer=optimizer)

    def apply_lr(self, lr: float) -> None:
        self.optimizer.param_groups[0]["lr"] = lr


class TCVAETrainer(Trainer):
    """A :class:`Trainer` for ``beta-tcvae``: its estimators of log q(z) need the number of
    training images."""

    def loss_options(self) -> dict[str, Any]:
        return {"dataset_size": self.train_x.shape[0]}


# objectives that need more than the plain Trainer; the others train with any Trainer
OBJECTIVE_TRAINERS: dict[str, type[Trainer]] = {
    "beta-tcvae": TCVAETrainer,
    "factor-vae": FactorVAETrainer,
}


def trainer_class_for(
    objective: str, trainer_class: type[Trainer], *, distributed: bool
) -> type[Trainer]:
    """The trainer class that trains ``objective``: the caller's ``trainer_class`` when it can,
    the objective's own when the caller left the default :class:`Trainer`."""
    if distributed and objective in SINGLE_PROCESS_OBJECTIVES:
        raise TrainingError(
            f"--objective {objective} trains in one process; run it without torchrun"
        )
    needed = OBJECTIVE_TRAINERS.get(objective)
    if needed is None or issubclass(trainer_class, needed):
        return trainer_class
    if trainer_class is Trainer:
        return needed
    raise TrainingError(
        f"--objective {objective} trains with {needed.__name__}; trainer_class="
        f"{trainer_class.__name__} is not a subclass of it"
    )
