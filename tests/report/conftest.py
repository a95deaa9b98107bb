"""Tiny runs on the bundled 8x8 digits, trained once per test session (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import load_dataset
from vae_atlas.training import train


def tiny_config(objective: str = "vae", latent_dim: int = 2, beta: float = 1.0) -> RunConfig:
    return RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(
            family="mlp",
            image_shape=(1, 8, 8),
            latent_dim=latent_dim,
            hidden=(64,),
            objective=objective,
            beta=beta,
        ),
        train=TrainConfig(epochs=3, batch_size=128, lr=3e-3, probe_size=100, device="cpu"),
    )


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("atlas-runs")
    data = load_dataset(DataConfig(name="digits"))
    runs = {}
    for name, cfg in {
        "vae2": tiny_config(),
        "ae2": tiny_config("ae"),
        "vae3": tiny_config(latent_dim=3),
        "vae5": tiny_config(latent_dim=5),
        "vae1": tiny_config(latent_dim=1),
    }.items():
        train(cfg, root / name, dataset=data, progress=False)
        runs[name] = root / name
    return runs
