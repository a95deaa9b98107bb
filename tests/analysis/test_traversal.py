import numpy as np
import pytest

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.encode import LatentSet
from vae_atlas.analysis.quality import kl_per_dim
from vae_atlas.analysis.traversal import dimension_ranking, traverse


def _latents(mu, logvar):
    return LatentSet(np.asarray(mu, float), None if logvar is None else np.asarray(logvar, float))


def test_kl_per_dim_by_hand_for_constant_posterior_variance():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((500, 3)) * np.array([1.0, 0.5, 0.0])
    logvar = np.tile(np.log([0.2, 0.5, 1.0]), (500, 1))
    expected = 0.5 * (np.mean(mu**2, axis=0) + np.exp(logvar[0]) - 1 - logvar[0])
    np.testing.assert_allclose(kl_per_dim(_latents(mu, logvar)), expected)
    order, score, name, active = dimension_ranking(_latents(mu, logvar))
    assert order.tolist() == [0, 1, 2]
    assert name.startswith("KL")
    assert active.tolist() == [True, True, False]  # dim 3 is exactly the prior: 0 nats
    assert score[-1] == pytest.approx(0.0, abs=1e-12)
    assert score[-1] < 0.01


def test_plain_autoencoder_ranks_by_variance_of_means():
    mu = np.stack([np.zeros(10), np.linspace(-1, 1, 10)], axis=1)
    order, _, name, active = dimension_ranking(_latents(mu, None))
    assert order.tolist() == [1, 0] and name == "variance of means"
    assert active.tolist() == [True, False]


def test_traversal_decodes_by_hand_with_a_linear_decoder():
    model = make_model(2)
    rng = np.random.default_rng(0)
    lat = _latents(rng.standard_normal((100, 2)) * [0.3, 1.5], np.zeros((100, 2)) - 1)
    base = np.array([0.2, -0.4])
    trav = traverse(model, base, lat, steps=5, limit=2.0)
    assert trav.images.shape == (2, 5, 1, 1, 6)
    assert trav.dims.tolist() == [1, 0]  # the wider dimension carries more KL
    np.testing.assert_allclose(trav.values, [-2, -1, 0, 1, 2])
    w, b = model.w.detach().numpy(), model.b.detach().numpy()
    z = base.copy()
    z[1] = 1.0  # row 0 sweeps dim 1; column 3 is value +1
    np.testing.assert_allclose(trav.images[0, 3].ravel(), z @ w.T + b, rtol=1e-5, atol=1e-5)


def test_many_dimensions_show_the_top_ones_and_the_two_least_informative():
    model = make_model(6)
    rng = np.random.default_rng(3)
    lat = _latents(rng.standard_normal((50, 6)) * np.arange(6, 0, -1), np.zeros((50, 6)) - 1)
    trav = traverse(model, np.zeros(6), lat, steps=3, max_dims=4)
    assert trav.dims.tolist() == [0, 1, 4, 5]


def test_plain_autoencoder_sweeps_each_dimension_over_its_own_spread():
    model = make_model(2, stochastic=False)
    # codes 20 wide around 5 in dim 0 and 0.5 wide around -1 in dim 1: the prior's ±3 would see
    # only a sliver of dim 0 and overshoot dim 1
    mu = np.stack([np.r_[-15.0, 25.0].repeat(50), np.r_[-1.5, -0.5].repeat(50)], axis=1)
    trav = traverse(model, np.zeros(2), _latents(mu, None), steps=7, limit=3.0)
    assert trav.dims.tolist() == [0, 1]
    np.testing.assert_allclose(trav.swept(0), 5.0 + 20.0 * np.linspace(-3, 3, 7))
    np.testing.assert_allclose(trav.swept(1), -1.0 + 0.5 * np.linspace(-3, 3, 7))
    w, b = model.w.detach().numpy(), model.b.detach().numpy()
    z = np.array([25.0, 0.0])  # row 0 (dim 0) at k = +1: mean 5 + 1 × std 20
    np.testing.assert_allclose(trav.images[0, 4].ravel(), z @ w.T + b, rtol=1e-5, atol=1e-4)
    assert "std" in trav.unit


def test_stochastic_encoder_sweeps_in_prior_units():
    lat = _latents(np.random.default_rng(0).standard_normal((50, 2)) * 8, np.zeros((50, 2)) - 1)
    trav = traverse(make_model(2), np.zeros(2), lat, steps=3, limit=3.0)
    np.testing.assert_allclose(trav.swept(0), [-3.0, 0.0, 3.0])
    assert trav.unit == "prior σ"
