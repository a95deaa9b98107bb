"""Training a conditional model (``cvae``): the condition is resolved from the dataset (its
labels, else its attributes), each batch's conditions go into the loss with its images, and a
dataset with neither is refused in one line."""

from __future__ import annotations

from dataclasses import replace

import torch

from vae_atlas.config import RunConfig
from vae_atlas.data import Dataset
from vae_atlas.models import AutoEncoder
from vae_atlas.models.conditional import conditioned_dataset, image_conditions
from vae_atlas.training.errors import TrainingError
from vae_atlas.training.trainer import Trainer


def resolve_condition(config: RunConfig, dataset: Dataset) -> RunConfig:
    """``config`` with a cvae's condition made concrete from ``dataset`` (unchanged for any
    other objective): ``condition`` left out is labels where the dataset has them, else
    attributes; labels set ``n_classes``, attributes left out are all of the dataset's.
    A :class:`TrainingError` when the dataset has neither, or not the one asked for."""
    model = config.model
    if model.objective != "cvae":
        return config
    has_labels = dataset.train.labels is not None and len(dataset.train.labels) > 0
    has_attributes = bool(dataset.attribute_names)
    wants_attributes = bool(model.condition_attributes) or (has_attributes and not has_labels)
    condition = model.condition or ("attributes" if wants_attributes else "labels")
    if condition == "labels":
        n_classes = _classes(dataset, asked=model.condition == "labels")
        return replace(config, model=replace(model, condition="labels", n_classes=n_classes))
    if not has_attributes:
        raise TrainingError(
            f"--condition attributes: dataset {dataset.name!r} has no attribute table (celeba "
            "has one; an image folder takes --attributes TABLE)"
        )
    names = model.condition_attributes or tuple(dataset.attribute_names or ())
    resolved = replace(model, condition="attributes", condition_attributes=names)
    conditioned_dataset(dataset, resolved)  # an unknown attribute name is refused here
    return replace(config, model=resolved)


def _classes(dataset: Dataset, *, asked: bool = False) -> int:
    labels = dataset.train.labels
    if (labels is None or not len(labels)) and asked:
        raise TrainingError(f"--condition labels: dataset {dataset.name!r} has no labels")
    if labels is None or not len(labels):
        raise TrainingError(
            f"--objective cvae conditions on the class label or an attribute table, and dataset "
            f"{dataset.name!r} has no labels and no attributes (use a labelled dataset, a folder "
            "with one subfolder per class, or --attributes TABLE)"
        )
    return max(int(labels.max()) + 1, len(dataset.class_names or ()))


def conditioned_data(config: RunConfig, dataset: Dataset) -> Dataset:
    """The data a run trains on: for an attribute cvae, ``dataset`` with its attributes narrowed
    to the model's (:func:`~vae_atlas.models.conditional.conditioned_dataset`, which refuses an
    unknown name); refuses a class cvae whose dataset has no labels, or more classes than
    ``model.n_classes``."""
    model = config.model
    if model.objective != "cvae":
        return dataset
    if model.condition_attributes:
        return conditioned_dataset(dataset, model)
    needed = _classes(dataset)
    if needed > model.n_classes:
        raise TrainingError(
            f"dataset {dataset.name!r} has {needed} classes but model.n_classes is "
            f"{model.n_classes}"
        )
    return dataset


def conditional_trainer(
    model: AutoEncoder,
    data: Dataset,
    config: RunConfig,
    generator: torch.Generator,
    device: torch.device | None = None,
) -> ConditionalTrainer:
    """The trainer of a cvae on ``data`` (as :func:`conditioned_data` returns it); an attribute
    cvae first takes its attributes' shift and scale from the training split."""
    given = image_conditions(model, data.train)
    assert given is not None  # conditioned_data refused a dataset without the condition
    if given.dim() == 2:
        model.fit_condition_scale(given)
    return ConditionalTrainer(
        model, data.train.images, config, generator, train_labels=given, device=device
    )


class ConditionalTrainer(Trainer):
    """A :class:`Trainer` that hands each batch's conditions (from ``train_labels``: labels
    (N,) or attribute rows (N, A)) to the model's loss as ``y``."""

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
        self.batch_y = self.train_y.index_select(0, index)  # (B,) or (B, A): the batch's own
        return index
