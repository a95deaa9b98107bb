"""Likelihood estimators checked against closed forms on a linear-Gaussian model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.analysis.linear_gaussian import make_linear_gaussian, sample_x
from vae_atlas.analysis.likelihood import (
    binarize,
    iwae_nll_per_image,
    nats_to_bits_per_dim,
    neg_elbo_per_image,
)
from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet
from vae_atlas.models import build_model, gaussian_kl_per_dim


@pytest.fixture(scope="module")
def lin():
    model = make_linear_gaussian(seed=0)
    return model, sample_x(model, 200)


def test_exact_posterior_makes_every_k_exact():
    model = make_linear_gaussian(seed=3, encoder="exact")
    x = sample_x(model, 50)
    exact = model.exact_log_px(x)
    for k in (1, 7, 100):
        est = -iwae_nll_per_image(model, x, k=k, seed=k)
        np.testing.assert_allclose(est, exact, atol=2e-4)


def test_neg_elbo_matches_closed_form(lin):
    model, x = lin
    est = neg_elbo_per_image(model, x, n_samples=400, seed=0)
    np.testing.assert_allclose(-est.mean(), model.exact_elbo(x).mean(), atol=0.02)


def test_iwae_k1_is_an_elbo_estimate(lin):
    model, x = lin
    draws = -np.array([iwae_nll_per_image(model, x, k=1, seed=s) for s in range(200)])
    stderr = draws.std() / math.sqrt(draws.size)
    assert stderr < 0.06  # tight enough that a wrong log-weight (e.g. a missing ½ logvar) fails
    assert abs(draws.mean() - model.exact_elbo(x).mean()) < 4 * stderr


def test_iwae_bounds_increase_with_k_towards_exact(lin):
    model, x = lin
    exact = model.exact_log_px(x).mean()
    elbo = model.exact_elbo(x).mean()
    bounds = {
        k: -np.mean([iwae_nll_per_image(model, x, k=k, seed=s).mean() for s in range(5)])
        for k in (2, 10, 100, 2000)
    }
    # The encoder is mismatched, so the gap is real (not a trivial test) ...
    assert exact - elbo > 0.3
    # ... and the bounds climb monotonically: ELBO <= IWAE_2 <= IWAE_10 <= ... <= log p(x).
    chain = [elbo, *bounds.values(), exact]
    assert all(a < b + 1e-3 for a, b in zip(chain[:-1], chain[1:], strict=True)), chain
    assert exact - bounds[2000] < 0.01
    assert bounds[2000] <= exact + 0.005


def test_chunking_does_not_change_the_estimate(lin):
    model, x = lin
    x = x[:20]
    # the same draws in a different arrangement give (statistically) the same answer, and the
    # chunked log-sum-exp is exact: compare with a reference computed in one go.
    exact = model.exact_log_px(x)
    small = -iwae_nll_per_image(model, x, k=3000, rows=256, seed=1)  # 12 chunks per image
    large = -iwae_nll_per_image(model, x, k=3000, rows=100_000, seed=1)  # 33 images per call
    assert np.abs(small - exact).mean() < 0.02
    assert np.abs(large - exact).mean() < 0.02
    assert not np.array_equal(small, large)  # really different draws, both close to the truth


def test_logsumexp_is_stable_for_huge_log_weights():
    # σ tiny -> log p(x|z) in the -1e5 range; a naive mean of exp() would give -inf.
    model = make_linear_gaussian(seed=4, sigma=1e-3)
    x = sample_x(model, 5) + 0.05
    est = iwae_nll_per_image(model, x, k=500)
    assert np.isfinite(est).all() and (est > 100).all()


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(64, 5, generator=g), torch.randn(64, 5, generator=g)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(5), torch.ones(5))
    ref = torch.distributions.kl_divergence(q, p)
    torch.testing.assert_close(gaussian_kl_per_dim(mu, logvar), ref, rtol=1e-5, atol=1e-5)
    assert float(gaussian_kl_per_dim(torch.zeros(3), torch.zeros(3)).abs().max()) == 0.0


def test_iwae_on_a_real_model_brackets_the_elbo():
    cfg = ModelConfig(family="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden=(32,))
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    images = ImageSet(torch.randint(0, 256, (16, 1, 8, 8), dtype=torch.uint8))
    elbo = neg_elbo_per_image(model, images, n_samples=200)
    iwae = iwae_nll_per_image(model, images, k=200)
    assert iwae.shape == (16,)
    assert iwae.mean() < elbo.mean()


def test_plain_autoencoder_is_refused():
    cfg = ModelConfig(
        family="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), objective="ae"
    )
    with pytest.raises(TypeError, match="stochastic"):
        iwae_nll_per_image(build_model(cfg), torch.rand(2, 1, 8, 8), k=5)


def test_binarize_is_seeded_and_binary():
    images = ImageSet(torch.randint(0, 256, (10, 1, 4, 4), dtype=torch.uint8))
    a, b = binarize(images, 3), binarize(images, 3)
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, binarize(images, 4))


def test_bits_per_dim():
    assert nats_to_bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)


def test_bernoulli_fast_path_equals_the_generic_likelihood():
    from vae_atlas.analysis.likelihood import log_importance_weights
    from vae_atlas.models import ModelAdapter

    cfg = ModelConfig(family="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden=(32,))
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    x = torch.bernoulli(torch.rand(5, 1, 8, 8))
    mu, logvar = model.encode(x)
    eps = torch.randn(5, 7, 3)
    fast = log_importance_weights(model, x, mu, logvar, eps)
    generic = log_importance_weights(ModelAdapter(model), x, mu, logvar, eps)  # no fast path
    torch.testing.assert_close(fast, generic, rtol=1e-5, atol=1e-4)
