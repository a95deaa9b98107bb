"""The explorer's per-point anomaly scores (GET .../anomaly) against a model whose score is
known in closed form."""

from __future__ import annotations

import torch
from fastapi.testclient import TestClient

from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app

from .conftest import local_client


class InkCounter(torch.nn.Module):
    """A plain autoencoder whose −log p(x | z) is the image's total ink (sum of its pixels)."""

    stochastic = False

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :2]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(z), 1, 4, 4)

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return -x.flatten(1).sum(1)


class NoLikelihood(InkCounter):
    log_px_given_z = None


def served(model: torch.nn.Module) -> TestClient:
    images = torch.zeros(100, 1, 4, 4, dtype=torch.uint8)
    for i in range(100):
        images[i].view(-1)[: i % 17] = 255  # image i has i mod 17 white pixels
    run = ExplorerRun.from_model(model, ImageSet(images), name="ink", latent_dim=2)
    return local_client(create_app([run]))


def test_scores_are_each_points_negative_log_likelihood() -> None:
    d = served(InkCounter()).get("/api/runs/ink/anomaly").json()
    assert d["scores"] == [float(i % 17) for i in range(100)]
    assert d["name"] == "reconstruction NLL (nats)"
    assert d["lo"] == 0.0 and d["hi"] == 16.0  # 1st and 99th percentiles of 0..16
    # matplotlib's viridis from 0.2 (its darkest part is invisible on the dark map) to its end
    assert d["ramp"][0] == "#414487" and d["ramp"][-1] == "#fde725" and len(d["ramp"]) == 32


def test_a_model_without_likelihood_has_no_scores() -> None:
    r = served(NoLikelihood()).get("/api/runs/ink/anomaly")
    assert r.status_code == 404 and "likelihood" in r.json()["detail"]
