"""What the run payload hands the page so it looks like the report: class colours, the
active-dimension threshold and an active flag by that threshold."""

from __future__ import annotations

import pytest
import torch
from fastapi.testclient import TestClient

from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.run import Run

from .conftest import local_client

# matplotlib's tab10, the report's class colours for up to ten classes
TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]


def test_class_colours_are_the_reports(client: TestClient) -> None:
    d = client.get("/api/runs/vae2").json()
    assert len(d["class_colors"]) == len(d["class_names"]) == 10
    assert d["class_colors"][:5] == TAB10


def test_unlabelled_points_get_one_colour(vae2: Run) -> None:
    images = ImageSet(vae2.dataset.test.images[:40])  # no labels
    bare = ExplorerRun.from_model(vae2.model, images, name="bare")
    d = local_client(create_app([bare])).get("/api/runs/bare").json()
    assert d["labels"] is None and d["class_colors"] == ["#4c72b0"]


class TwoCodes(torch.nn.Module):
    """A posterior N(mu, I) with mu = (0.12 s, 2 s) and s = ±1 for a black or white image."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sign = 2 * x.flatten(1).mean(1, keepdim=True) - 1  # (B, 1)
        mu = sign * torch.tensor([0.12, 2.0])  # (B, 2)
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 8, 8)


def test_active_dimensions_by_kl_threshold() -> None:
    # black and white images alternate: z1's means vary (variance 0.0144 > 0.01) but its KL is
    # 0.5 * 0.12^2 = 0.0072 nats < 0.01, so by KL it is inactive; z2's KL is 0.5 * 2^2 = 2 nats
    images = torch.zeros(40, 1, 8, 8, dtype=torch.uint8)
    images[::2] = 255
    run = ExplorerRun.from_model(TwoCodes(), ImageSet(images), name="two", latent_dim=2)
    d = local_client(create_app([run])).get("/api/runs/two").json()
    assert d["active_kl_threshold"] == 0.01
    by_index = {dim["index"]: dim for dim in d["dims"]}
    assert by_index[0]["kl"] == pytest.approx(0.0072, abs=1e-6)
    assert by_index[1]["kl"] == pytest.approx(2.0, abs=1e-6)
    assert [by_index[0]["active"], by_index[1]["active"]] == [False, True]
    assert d["n_active"] == 1
