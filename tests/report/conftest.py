"""Tiny runs on the bundled 8x8 digits, trained once per test session (a few seconds)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from vae_atlas.config import DataConfig
from vae_atlas.data import load_dataset
from vae_atlas.training import train

from ..tiny_runs import tiny_config as base_config

tiny_config = partial(base_config, hidden=(64,), batch_size=128, lr=3e-3, probe_size=100)


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
