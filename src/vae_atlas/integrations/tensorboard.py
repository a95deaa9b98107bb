"""A run in TensorBoard: per-epoch scalars and images, and the latent means in the embedding
projector.

Scalars are the run's ``metrics.jsonl`` rows, renamed ``<quantity>/<split>`` (``train_loss`` →
``loss/train``, ``test_kl`` → ``kl/test``), the test KL per dimension as ``kl_per_dim/z1`` …,
the learning rate as ``schedule/lr`` and the KL weight β (warm-up included) as
``schedule/beta``; the step is the epoch. Images: test inputs over their reconstructions, and
decoded prior draws (the same draws every epoch, so they show the decoder changing). At the end,
the test set's latent means (a 1-D or 2-D code padded with zero columns to the three
dimensions the projector's PCA needs) with their labels and a sprite of the images, in the
projector's format (``projector_config.pbtxt``, ``tensors.tsv``, ``metadata.tsv``, ``sprite.png``).

:class:`TrainingListener` writes while training (handed to ``train(on_epoch_end=...)``);
:func:`export_tensorboard` writes the same for an existing run from its files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import encode_images
from vae_atlas.analysis.sampling import prior_samples, reconstruct, spread_index
from vae_atlas.checkpoint import (
    METRICS,
    WEIGHTS,
    load_tensors,
    load_weights_into,
    read_metrics,
    read_run_config,
)
from vae_atlas.data import Dataset, ImageSet
from vae_atlas.integrations.extras import require
from vae_atlas.models import build_model
from vae_atlas.run import Run, load_run

LOG_DIR = "tensorboard"  # inside the run directory unless told otherwise
N_RECONSTRUCTIONS = 8
N_SAMPLES = 16
PROJECTOR_POINTS = 10_000
# which inputs are reconstructed and which prior draws decoded; the report's default seed, so the
# prior samples are the first of the report's
DISPLAY_SEED = 0
# TensorBoard's projector reads sprites up to 8192 pixels a side
_SPRITE_SIDE = 8192
_PROJECTOR_DIMS = 3
_SPLITS = ("train", "val", "test")
_RENAMED = {
    "lr": "schedule/lr",
    "kl_weight": "schedule/beta",
    "images_per_s": "speed/images_per_s",
    "skipped_batches": "health/skipped_batches",
}
_NOT_SCALARS = {"epoch", "step", "seconds", "n_train", "n_val"}


def scalar_tags(row: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """(tag, value) for every number in a metrics row; lists become one tag per entry."""
    for key, value in row.items():
        if key in _NOT_SCALARS or value is None:
            continue
        split, _, quantity = key.partition("_")
        tag = _RENAMED.get(key) or (f"{quantity}/{split}" if split in _SPLITS else key)
        if isinstance(value, list):
            if key == "test_kl_per_dim":
                tag = "kl_per_dim"
            for i, entry in enumerate(value):
                if entry is not None:
                    yield f"{tag}/z{i + 1}", float(entry)
        elif isinstance(value, int | float):
            yield tag, float(value)


def projector_points(n_images: int, image_side: int) -> int:
    """How many test images the projector gets: all, up to 10,000 and a sprite that fits."""
    per_side = _SPRITE_SIDE // max(image_side, 1)
    return min(n_images, PROJECTOR_POINTS, per_side * per_side)


def projector_codes(mu: np.ndarray) -> np.ndarray:
    """Latent means (N, D) as the projector gets them: codes of fewer than 3 dimensions padded
    with zero columns to (N, 3), since the projector always runs its own 3-component PCA and
    draws nothing (NaN variance) for 1-D or 2-D data."""
    missing = max(0, _PROJECTOR_DIMS - mu.shape[1])
    return np.hstack([mu, np.zeros((mu.shape[0], missing), dtype=mu.dtype)])


class TensorBoardLogger:
    """Writes one run's scalars, images and embedding into ``log_dir``; the writer (and the
    folder) is created on the first write."""

    def __init__(self, log_dir: str | Path, data: Dataset) -> None:
        self.log_dir = Path(log_dir)
        self.test: ImageSet = data.test
        self.class_names = data.class_names
        labels = None if self.test.labels is None else self.test.labels.numpy()
        n = self.test.images.shape[0]
        self.shown = spread_index(labels, N_RECONSTRUCTIONS, n, seed=DISPLAY_SEED)
        self._writer: Any = None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            require("tensorboard", "--tensorboard")
            tb = require("torch.utils.tensorboard", "--tensorboard")
            self._writer = tb.SummaryWriter(log_dir=str(self.log_dir))
        return self._writer

    def log_row(self, row: dict[str, Any]) -> None:
        for tag, value in scalar_tags(row):
            self.writer.add_scalar(tag, value, global_step=int(row["epoch"]))

    def log_images(self, model: nn.Module, epoch: int) -> None:
        rec = reconstruct(model, self.test, self.shown)
        pairs = np.concatenate([rec.originals, rec.reconstructions])  # (2n, C, H, W)
        self.writer.add_images("reconstructions", pairs, global_step=epoch, dataformats="NCHW")
        samples = prior_samples(model, N_SAMPLES, seed=DISPLAY_SEED)
        self.writer.add_images("prior_samples", samples.images, epoch, dataformats="NCHW")

    def log_embedding(self, model: nn.Module, epoch: int) -> None:
        n = projector_points(self.test.images.shape[0], self.test.images.shape[-1])
        subset = self.test.subset(torch.arange(n))
        latents = encode_images(model, subset)
        metadata = None
        if latents.labels is not None:
            names = self.class_names
            metadata = [names[c] if names else str(c) for c in latents.labels.tolist()]
        sprite = subset.images.float() / 255.0  # (n, C, H, W)
        self.writer.add_embedding(
            torch.as_tensor(projector_codes(latents.mu), dtype=torch.float32),
            metadata=metadata,
            label_img=sprite,
            global_step=epoch,
            tag="latent_means",
        )

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class TrainingListener:
    """``train(on_epoch_end=listener)``: after each epoch its metrics row and images of the
    weights the epoch ended with (read back from the run's ``model.safetensors``); the first
    epoch of a new run also logs epoch 0, the untrained model's row. :meth:`finish` adds the
    embedding of the run's final weights."""

    def __init__(self, run_dir: str | Path, logger: TensorBoardLogger) -> None:
        self.run_dir, self.logger = Path(run_dir), logger
        self._model: nn.Module | None = None

    def __call__(self, row: dict[str, Any]) -> None:
        if row["epoch"] == 1:
            for earlier in read_metrics(self.run_dir / METRICS):
                if earlier["epoch"] == 0:
                    self.logger.log_row(earlier)
        self.logger.log_row(row)
        self.logger.log_images(self._current_model(), int(row["epoch"]))
        self.logger.flush()

    def _current_model(self) -> nn.Module:
        if self._model is None:
            self._model = build_model(read_run_config(self.run_dir).model).eval()
        tensors, _ = load_tensors(self.run_dir / WEIGHTS)
        load_weights_into(self._model, tensors, self.run_dir / WEIGHTS)
        return self._model

    def finish(self) -> bool:
        """The embedding of the run's final weights (the best epoch's under early stopping),
        when this call trained an epoch; returns whether anything was written."""
        try:
            if self._model is None:
                return False
            run = load_run(self.run_dir)
            self.logger.log_embedding(run.model, final_epoch(run))
            return True
        finally:
            self.logger.close()


def final_epoch(run: Run) -> int:
    """The epoch whose weights ``model.safetensors`` holds."""
    best = run.state.get("best_epoch")
    if isinstance(best, int):
        return best
    return int(run.metrics[-1]["epoch"]) if run.metrics else 0


def export_tensorboard(run: Run, log_dir: str | Path) -> Path:
    """Write ``run`` into ``log_dir``: every metrics row as scalars, images and the embedding of
    its final weights (the run keeps no earlier weights to draw per-epoch images from)."""
    logger = TensorBoardLogger(log_dir, run.dataset)
    try:
        for row in run.metrics:
            logger.log_row(row)
        epoch = final_epoch(run)
        logger.log_images(run.model, epoch)
        logger.log_embedding(run.model, epoch)
    finally:
        logger.close()
    return Path(log_dir)
