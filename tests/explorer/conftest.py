"""Tiny runs for the explorer's tests: trained for a few epochs on the bundled 8x8 digits."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from torch import nn

from vae_atlas import load_run, train
from vae_atlas.config import ModelConfig
from vae_atlas.data import load_digits
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.models import build_model
from vae_atlas.run import Run

from ..conftest import make_blobs_dataset
from ..tiny_runs import tiny_config as base_config

tiny_config = partial(base_config, hidden=(48,), lr=3e-3)


@pytest.fixture(scope="session")
def digits_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 2-D VAE and a 5-D plain AE on the digits, 3 epochs each (a few seconds)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("explorer-runs")
    data = load_digits()
    out = {}
    for name, cfg in {
        "vae2": tiny_config("vae", 2),
        "ae5": tiny_config("ae", 5, activation="tanh"),
    }.items():
        train(cfg, root / name, dataset=data, progress=False, log=lambda _: None)
        out[name] = root / name
    return out


@pytest.fixture(scope="session")
def vae2(digits_runs: dict[str, Path]) -> Run:
    return load_run(digits_runs["vae2"])


@pytest.fixture(scope="session")
def ae5(digits_runs: dict[str, Path]) -> Run:
    return load_run(digits_runs["ae5"])


def local_client(app) -> TestClient:
    """A test client addressing the app as a browser on this machine does (the explorer refuses
    requests for any other host, TestClient's default ``testserver`` included)."""
    return TestClient(app, base_url="http://127.0.0.1")


class OwnModel(nn.Module):
    """``model`` behind a user's own module: the page cannot run its decoder, so the explorer
    decodes it on the server."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model, self.latent_dim = model, model.latent_dim

    def encode(self, x: torch.Tensor):
        return self.model.encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z)


def conv_explorer_run(*, server_decoded: bool = False) -> ExplorerRun:
    """An untrained conv VAE on synthetic 28x28 blobs, decoded in the page, or with
    ``server_decoded`` wrapped as a user's own model so that it decodes on the server."""
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(family="conv", image_shape=(1, 28, 28), latent_dim=3, hidden=(8, 16))
    )
    data = make_blobs_dataset(n=160, size=28)
    shown = OwnModel(model) if server_decoded else model
    return ExplorerRun.from_model(shown, data.test, name="conv3", class_names=data.class_names)


@pytest.fixture(scope="session")
def conv_run() -> ExplorerRun:
    return conv_explorer_run()


@pytest.fixture(scope="session")
def client(vae2: Run, ae5: Run, conv_run: ExplorerRun) -> TestClient:
    return local_client(create_app([vae2, ae5, conv_run]))
