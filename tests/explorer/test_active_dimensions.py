"""The explorer marks and ranks dimensions by KL, the same rule as the report and the CLI."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis import active_dimensions
from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app

from ..analysis.one_gaussian_vamp import one_gaussian_vamp
from .conftest import local_client


class _ScaledPixels(nn.Module):
    """mu_d = c_d (x_d - 0.5) with unit posterior variance; decode is the inverse map."""

    latent_dim = 2

    def __init__(self, scale: tuple[float, float]) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = (x.flatten(1) - 0.5) * self.scale  # (B, 2)
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z / self.scale + 0.5).clamp(0, 1).view(-1, 1, 1, 2)


def test_threshold_is_inclusive_at_a_hundredth_of_a_nat() -> None:
    kl = [0.0, 0.0099, 0.01, 0.5]
    assert active_dimensions(kl).tolist() == [False, False, True, True]


def test_a_dimension_with_varied_means_but_little_kl_is_inactive() -> None:
    rng = np.random.default_rng(0)
    pixels = torch.as_tensor(rng.integers(0, 256, (2000, 1, 1, 2)), dtype=torch.uint8)
    run = ExplorerRun.from_model(_ScaledPixels((0.42, 3.0)), ImageSet(pixels), name="scaled")
    mu = (pixels.flatten(1).double().numpy() / 255 - 0.5) * [0.42, 3.0]
    # by hand: unit posterior variance, so KL_d = E[mu_d^2] / 2
    kl = 0.5 * np.mean(mu**2, axis=0)
    assert np.var(mu[:, 0]) > 0.01 and kl[0] < 0.01  # variance says active, KL says not
    detail = local_client(create_app([run])).get("/api/runs/scaled").json()
    assert [d["index"] for d in detail["dims"]] == [1, 0]
    assert [d["active"] for d in detail["dims"]] == [True, False]
    assert detail["n_active"] == 1


def test_a_vamp_prior_run_ranks_dimensions_by_kl_against_its_own_prior() -> None:
    """A VampPrior of one pseudo-input under an encoder whose every output is N(m, s²): each
    posterior equals the prior, so the KL per dimension is 0 (the dimensions carry nothing),
    where against N(0, I) the closed form would give ½(m² + s² − 1 − ln s²) = 0.168 and 0.720."""
    m, s = np.array([0.5, -1.0]), np.array([0.8, 1.5])
    model = one_gaussian_vamp(m, s)
    pixels = torch.randint(0, 256, (300, 1, 8, 8), dtype=torch.uint8)
    run = ExplorerRun("vamp", "vamp", model, ImageSet(pixels))
    against_standard = 0.5 * (m**2 + s**2 - 1 - np.log(s**2))
    assert against_standard.min() > 0.15
    assert np.all(np.abs(run.kl) < 0.06)  # Monte Carlo, standard error about 0.01
