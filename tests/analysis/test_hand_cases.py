"""Analysis numbers on cases small enough to work out by hand: MIG, kNN accuracy, posterior σ."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vae_atlas.analysis.disentanglement import mig
from vae_atlas.analysis.encode import LatentSet
from vae_atlas.analysis.quality import knn_accuracy


def test_mig_divides_by_the_factors_entropy_not_the_codes():
    """Code 0 holds the factor (one bit) plus an independent bit: I(z0; f) = H(f) = log 2 while
    H(z0) = log 4. Code 1 is constant: I(z1; f) = 0. So MIG = (log 2 − 0) / log 2 = 1 exactly
    (dividing by the code's entropy would give 1/2)."""
    rng = np.random.default_rng(0)
    f = rng.integers(0, 2, 4000)
    extra = rng.integers(0, 2, 4000)
    codes = np.stack([2.0 * f + extra, np.zeros(4000)], axis=1)
    assert mig(codes, f[:, None]) == pytest.approx(1.0, abs=1e-12)


def test_mig_of_a_code_that_keeps_half_of_a_factor():
    """Factor with 4 equally likely values; code 0 only tells {0,1} from {2,3}: I = log 2, H(f) =
    log 4, code 1 constant -> MIG = 1/2."""
    f = np.repeat(np.arange(4), 500)
    codes = np.stack([(f >= 2).astype(float), np.zeros(2000)], axis=1)
    assert mig(codes, f[:, None]) == pytest.approx(math.log(2) / math.log(4), abs=1e-12)


def test_knn_is_scored_on_the_held_out_codes():
    """Same positions, opposite labels in the test set: accuracy 0 on it (1 on the fitted set)."""
    mu = np.repeat(np.array([[0.0, 0.0], [10.0, 10.0]]), 20, axis=0)
    labels = np.repeat([0, 1], 20)
    train = LatentSet(mu, None, labels)
    test = LatentSet(mu + 0.01, None, 1 - labels)
    assert knn_accuracy(train, test) == 0.0
    assert knn_accuracy(train, LatentSet(mu + 0.01, None, labels)) == 1.0


def test_knn_on_shuffled_labels_falls_to_chance():
    rng = np.random.default_rng(3)
    mu = rng.normal(size=(4000, 2))
    labels = np.repeat(np.arange(4), 1000)
    shuffled = rng.permutation(labels)
    train = LatentSet(mu[:3000], None, shuffled[:3000])
    test = LatentSet(mu[3000:], None, shuffled[3000:])
    assert knn_accuracy(train, test) == pytest.approx(0.25, abs=0.04)


def test_latentset_sigma_is_the_standard_deviation():
    logvar = np.log(np.array([[4.0, 0.25], [1.0, 0.01]]))
    lat = LatentSet(np.zeros((2, 2)), logvar)
    np.testing.assert_allclose(lat.sigma, [[2.0, 0.5], [1.0, 0.1]], rtol=1e-12)
    assert LatentSet(np.zeros((2, 2)), None).sigma is None
