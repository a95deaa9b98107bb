"""Training a conditional model (``cvae``): each batch's labels go into the loss with its
images, and a dataset without labels is refused in one line."""

from __future__ import annotations

from dataclasses import replace

import torch

from vae_atlas.config import RunConfig
from vae_atlas.data import Dataset
from vae_atlas.models import AutoEncoder
from vae_atlas.training.errors import TrainingError
from vae_atlas.training.trainer import Trainer


def class_count(config: RunConfig, dataset: Dataset) -> RunConfig:
    """``config`` with ``model.n_classes`` set from ``dataset`` for a cvae (unchanged for any
    other objective); a :class:`TrainingError` when the dataset has no labels."""
    if config.model.objective != "cvae":
        return config
    labels = dataset.train.labels
    if labels is None or not len(labels):
        raise TrainingError(
            f"--objective cvae conditions on the class label, and dataset {dataset.name!r} "
            "has no labels (use a labelled dataset, or a folder with one subfolder per class)"
        )
    n_classes = max(int(labels.max()) + 1, len(dataset.class_names or ()))
    return replace(config, model=replace(config.model, n_classes=n_classes))


def check_labels(config: RunConfig, dataset: Dataset) -> None:
    """Refuse a cvae whose dataset has no labels, or labels beyond ``model.n_classes``."""
    if config.model.objective != "cvae":
        return
    needed = class_count(config, dataset).model.n_classes
    if needed > config.model.n_classes:
        raise TrainingError(
            f"dataset {dataset.name!r} has {needed} classes but model.n_classes is "
            f"{config.model.n_classes}"
        )


class ConditionalTrainer(Trainer):
    """A :class:`Trainer` that hands each batch's labels (from ``train_labels`` (N,)) to the
    model's loss as ``y``."""

    def __init__(
        self,
        model: AutoEncoder,
        train_images: torch.Tensor,
        config: RunConfig,
        generator: torch.Generator,
        *,
        train_labels: torch.Tensor,
        device: torch.device | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        super().__init__(model, train_images, config, generator, device=device, optimizer=optimizer)
        self.train_y = train_labels.to(self.device)
        self.batch_y: torch.Tensor | None = None
        unlabelled = self.loss_fn
        self.loss_fn = lambda x, **kw: unlabelled(x, y=self.batch_y, **kw)

    def batch_indices(self, start: int) -> torch.Tensor:
        index = super().batch_indices(start)
        self.batch_y = self.train_y.index_select(0, index)  # (B,) the batch's labels
        return index
