"""Latent-quality measures: behaviour on constructed latents with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from vae_atlas.analysis.encode import LatentSet
from vae_atlas.analysis.quality import (
    active_units,
    interpolation_roughness,
    interpolation_smoothness,
    kl_per_dim,
    knn_accuracy,
    linear_probe_accuracy,
    silhouette_by_class,
    total_correlation,
)


def _clusters(n: int, seed: int, spread: float = 0.3) -> LatentSet:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    mu = centres[labels] + spread * rng.standard_normal((n, 3))
    return LatentSet(mu, np.full((n, 3), -2.0), labels)


def test_linear_probe_separates_linear_classes_and_not_random_labels():
    train, test = _clusters(300, 0), _clusters(200, 1)
    assert linear_probe_accuracy(train, test) > 0.97
    shuffled = LatentSet(train.mu, None, np.random.default_rng(2).permutation(train.labels))
    assert linear_probe_accuracy(shuffled, test) < 0.6


def test_linear_probe_cannot_solve_xor_but_knn_can():
    rng = np.random.default_rng(0)

    def xor(n):
        mu = rng.uniform(-1, 1, (n, 2))
        return LatentSet(mu, None, ((mu[:, 0] > 0) ^ (mu[:, 1] > 0)).astype(int))

    train, test = xor(600), xor(300)
    assert linear_probe_accuracy(train, test) < 0.7
    assert knn_accuracy(train, test) > 0.9


def test_silhouette_and_active_units_still_behave():
    lat = _clusters(300, 0)
    assert silhouette_by_class(lat) > 0.5
    mu = lat.mu.copy()
    mu[:, 2] *= 0.2  # variance 0.09 * 0.04 = 0.0036 < 0.01: inactive
    n_active, variances = active_units(mu)
    assert n_active == 2 and variances.shape == (3,)
    assert kl_per_dim(LatentSet(np.zeros((4, 2)), np.zeros((4, 2)))).tolist() == [0.0, 0.0]


def _gaussian_tc(cov: np.ndarray) -> float:
    """Closed-form TC of N(0, cov): ½ (Σ log cov_dd − log det cov)."""
    return 0.5 * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.9])
def test_total_correlation_matches_gaussian_closed_form(rho):
    # means ~ N(0, S), q(z|x) = N(mean, s² I)  =>  q(z) = N(0, S + s² I) exactly.
    rng = np.random.default_rng(0)
    s_cov = np.array([[1.0, rho], [rho, 1.0]])
    n, s2 = 3000, 0.3
    mu = rng.multivariate_normal(np.zeros(2), s_cov, size=n)
    lat = LatentSet(mu, np.full((n, 2), math.log(s2)))
    expected = _gaussian_tc(s_cov + s2 * np.eye(2))
    assert total_correlation(lat, n_samples=3000) == pytest.approx(expected, abs=0.04)


def test_total_correlation_needs_a_stochastic_encoder():
    with pytest.raises(ValueError, match="stochastic"):
        total_correlation(LatentSet(np.zeros((5, 2)), None))


class _Decoder(nn.Module):
    """decode(z): a straight map (linear), one that folds space (jumpy), one sharp edge (cliff)
    or one image for every code (constant)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.w = nn.Parameter(torch.randn(2, 16, generator=torch.Generator().manual_seed(0)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = z @ self.w
        if self.kind == "jumpy":
            h = torch.sin(8 * h)
        elif self.kind == "cliff":  # one sharp edge: each path changes in (at most) one place
            h = torch.sigmoid(50 * h[:, :1]).expand_as(h)
        elif self.kind == "constant":  # a collapsed decoder: one image whatever the code
            h = torch.zeros_like(h) + 0.5
        return h.view(-1, 1, 4, 4)


def test_smoothness_is_one_for_a_linear_decoder_and_large_for_a_folding_one():
    lat = LatentSet(np.random.default_rng(0).standard_normal((50, 2)), None)
    assert interpolation_smoothness(_Decoder("linear"), lat) == pytest.approx(1.0, abs=1e-4)
    assert interpolation_smoothness(_Decoder("jumpy"), lat) > 3.0


def test_smoothness_of_a_decoder_that_ignores_its_code_is_none_not_nan():
    lat = LatentSet(np.random.default_rng(0).standard_normal((50, 2)), None)
    assert interpolation_smoothness(_Decoder("constant"), lat) is None


def test_roughness_is_one_for_even_change_and_large_for_a_jump():
    lat = LatentSet(np.random.default_rng(0).standard_normal((50, 2)), None)
    assert interpolation_roughness(_Decoder("linear"), lat) == pytest.approx(1.0, abs=1e-4)
    assert interpolation_roughness(_Decoder("cliff"), lat) > 5.0
    with pytest.raises(ValueError, match="at least two"):
        interpolation_roughness(_Decoder("linear"), lat.subset(slice(0, 1)))
