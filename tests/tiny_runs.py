"""Tiny training runs for tests: one configuration builder and one quiet trainer.

Every test that needs a trained model builds it here, on the bundled 8x8 digits (or a synthetic
dataset passed in), in a few seconds on one CPU core.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import Dataset
from vae_atlas.training import train


def tiny_config(
    objective: str = "vae",
    latent_dim: int = 2,
    *,
    hidden: tuple[int, ...] = (32,),
    activation: str = "relu",
    beta: float = 1.0,
    epochs: int = 3,
    batch_size: int = 64,
    probe_size: int = 50,
    **train_kw: Any,
) -> RunConfig:
    """An MLP on 8x8 single-channel images; ``train_kw`` go to :class:`TrainConfig`."""
    return RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(
            family="mlp",
            image_shape=(1, 8, 8),
            latent_dim=latent_dim,
            hidden=hidden,
            objective=objective,
            activation=activation,
            beta=beta,
        ),
        train=TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            probe_size=probe_size,
            **{"device": "cpu", **train_kw},
        ),
    )


def train_quietly(cfg: RunConfig, out: Path, dataset: Dataset | None = None) -> Path:
    """Train ``cfg`` into ``out`` without a progress bar or log lines; returns ``out``."""
    train(cfg, out, dataset=dataset, progress=False, log=lambda _: None)
    return out
