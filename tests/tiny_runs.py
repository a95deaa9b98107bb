"""Tiny training runs for tests: one configuration builder, one quiet trainer, and the check
that a resumed run ends with the uninterrupted run's weights.

Every test that needs a trained model builds it here, on the bundled 8x8 digits (or a synthetic
dataset passed in), in a few seconds on one CPU core.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from vae_atlas.checkpoint import load_tensors
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


def train_with_a_resume(
    cfg: RunConfig, out: Path, dataset: Dataset, *, stop_after: int
) -> tuple[Path, Path]:
    """``cfg`` trained straight through into ``out/full``, and into ``out/part`` stopped after
    ``stop_after`` epochs and then resumed; returns the two run directories."""
    train_quietly(cfg, out / "full", dataset)
    train_quietly(replace(cfg, train=replace(cfg.train, epochs=stop_after)), out / "part", dataset)
    train(cfg, out / "part", dataset=dataset, progress=False, log=lambda _: None, resume=True)
    return out / "full", out / "part"


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """The weights a run saved, name -> tensor."""
    return load_tensors(run_dir / "model.safetensors")[0]


def assert_same_weights(a: Path, b: Path) -> None:
    """The runs in ``a`` and ``b`` saved the same names with bit-identical weights."""
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), name
