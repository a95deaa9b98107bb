"""KL per dimension against the model's own prior, against independent truth: a VampPrior of one
pseudo-input (a single Gaussian, so the closed form), a two-component mixture (scipy's numerical
integral of the 1-D KL, and a grid integral of the full KL), and a hierarchical model's bottom
level built by hand so that E_q(z2|x) KL(q(z1|x, z2) ‖ p(z1|z2)) has a closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.stats import norm
from torch import nn

from vae_atlas.analysis.encode import LatentSet
from vae_atlas.analysis.prior_kl import kl_per_dim_of, mixture_kl, prior_kl
from vae_atlas.config import ModelConfig
from vae_atlas.models import HierarchicalVAE, MixturePrior, build_model

from .one_gaussian_vamp import one_gaussian_vamp


def gaussian_kl(m1, v1, m2, v2):
    """KL(N(m1, v1) ‖ N(m2, v2)) for variances v (the textbook formula)."""
    return 0.5 * np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5


def some_posteriors(n: int, d: int, seed: int) -> LatentSet:
    rng = np.random.default_rng(seed)
    return LatentSet(rng.normal(0.0, 1.5, (n, d)), rng.uniform(-2.0, 0.5, (n, d)))


def test_standard_prior_is_the_closed_form():
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 8, 8), hidden=(8,), latent_dim=3))
    lat = some_posteriors(40, 3, seed=1)
    kl = prior_kl(model, lat)
    expected = gaussian_kl(lat.mu, np.exp(lat.logvar), 0.0, 1.0).mean(0)
    np.testing.assert_allclose(kl.per_dim, expected, rtol=1e-12)
    assert kl.stderr is None and kl.total == pytest.approx(expected.sum())
    assert kl.against == "the prior N(0, I)"


def test_one_pseudo_input_gives_the_gaussian_kl_within_monte_carlo_error():
    """K = 1 and an encoder whose every output is N(m, s²): the VampPrior is that Gaussian, so
    each dimension's KL is the two-Gaussian closed form."""
    m, logvar = np.array([0.5, -1.0]), np.array([2 * math.log(0.8), 2 * math.log(1.5)])
    model = one_gaussian_vamp(m, np.exp(0.5 * logvar))
    lat = some_posteriors(60, 2, seed=2)
    kl = prior_kl(model, lat, n_draws=400, seed=3)
    expected = gaussian_kl(lat.mu, np.exp(lat.logvar), m, np.exp(logvar)).mean(0)
    assert kl.stderr is not None and kl.n_draws == 400 and "VampPrior" in kl.against
    assert np.all(np.abs(kl.per_dim - expected) < 4 * kl.stderr + 1e-3)
    assert kl.stderr.max() < 0.05  # the error bar is tight enough to mean something
    # one Gaussian factorises: the total is the sum of the two dimensions' closed forms
    assert kl.total == pytest.approx(expected.sum(), abs=4 * math.hypot(*kl.stderr) + 1e-3)


def two_components() -> MixturePrior:
    means = torch.tensor([[-1.5, 0.3], [2.0, -0.4]], dtype=torch.float64)
    logvars = torch.tensor([[math.log(0.25), 0.0], [math.log(0.64), math.log(2.0)]],
                           dtype=torch.float64)  # fmt: skip
    return MixturePrior(means, logvars, "a two-component mixture")


def test_two_component_mixture_against_scipy_integration():
    prior = two_components()
    means, sds = prior.means.numpy(), np.exp(0.5 * prior.logvars.numpy())
    variances = np.array([[0.5, 0.3], [1.2, 0.2]])
    lat = LatentSet(np.array([[0.4, -0.2], [-1.0, 1.1]]), np.log(variances))
    kl = mixture_kl(lat, prior, n_draws=20_000, seed=0)
    for d in range(2):

        def log_p(z, d=d):
            return np.log(0.5 * norm.pdf(z, means[0, d], sds[0, d])
                          + 0.5 * norm.pdf(z, means[1, d], sds[1, d]))  # fmt: skip

        exact = []
        for mu, sd in zip(lat.mu[:, d], lat.sigma[:, d], strict=True):

            def integrand(z, mu=mu, sd=sd):
                return norm.pdf(z, mu, sd) * (norm.logpdf(z, mu, sd) - log_p(z))

            exact.append(quad(integrand, mu - 12 * sd, mu + 12 * sd)[0])
        assert abs(kl.per_dim[d] - np.mean(exact)) < 4 * kl.stderr[d] + 1e-3, d
    assert not kl.additive


def test_two_component_mixture_total_against_a_grid_integral():
    """KL(q(z|x) ‖ p(z)) in both dimensions at once, summed on a fine grid around q."""
    prior = two_components()
    means, sds = prior.means.numpy(), np.exp(0.5 * prior.logvars.numpy())
    mu, sd = np.array([0.4, -0.2]), np.array([0.7, 0.55])
    lat = LatentSet(mu[None], np.log(sd**2)[None])
    kl = mixture_kl(lat, prior, n_draws=40_000, seed=1)
    a = np.linspace(mu[0] - 9 * sd[0], mu[0] + 9 * sd[0], 801)
    b = np.linspace(mu[1] - 9 * sd[1], mu[1] + 9 * sd[1], 801)
    za, zb = np.meshgrid(a, b)
    log_q = norm.logpdf(za, mu[0], sd[0]) + norm.logpdf(zb, mu[1], sd[1])
    comps = [norm.pdf(za, means[k, 0], sds[k, 0]) * norm.pdf(zb, means[k, 1], sds[k, 1])
             for k in range(2)]  # fmt: skip
    log_p = np.log(0.5 * comps[0] + 0.5 * comps[1])
    exact = float(np.sum(np.exp(log_q) * (log_q - log_p)) * (a[1] - a[0]) * (b[1] - b[0]))
    assert kl.total == pytest.approx(exact, abs=0.01)
    # a mixture does not factorise: the dimensions' KLs do not add up to the KL
    assert abs(kl.per_dim.sum() - exact) > 0.05


def linear_hvae(top: int = 2, lower: int = 3) -> tuple[HierarchicalVAE, dict[str, np.ndarray]]:
    """An hvae whose parts are set by hand: q(z2|x) = N(m2, diag s2²) for every x,
    p(z1|z2) = N(A z2 + b, diag e^c), q(z1|x, z2) = p(z1|z2) moved by Δμ = G z2 + δ and
    Δv = v (log-variance)."""
    torch.manual_seed(0)
    cfg = ModelConfig(objective="hvae", image_shape=(1, 8, 8), hidden=(8,), latent_dim=top,
                      lower_latent_dim=lower)  # fmt: skip
    model = build_model(cfg)
    assert isinstance(model, HierarchicalVAE)
    rng = np.random.default_rng(5)
    p = {
        "m2": rng.normal(0, 1, top), "lv2": rng.uniform(-1.5, 0.3, top),
        "A": rng.normal(0, 1, (lower, top)), "b": rng.normal(0, 1, lower),
        "c": rng.uniform(-1, 1, lower), "G": rng.normal(0, 0.8, (lower, top)),
        "delta": rng.normal(0, 0.7, lower), "v": rng.uniform(-0.8, 0.8, lower),
    }  # fmt: skip
    width = model.q_top.in_features
    t = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        model.q_top.weight.zero_()
        model.q_top.bias.copy_(t(np.r_[p["m2"], p["lv2"]]))
        model.p_lower = nn.Linear(top, 2 * lower)
        model.p_lower.weight.copy_(t(np.r_[p["A"], np.zeros((lower, top))]))
        model.p_lower.bias.copy_(t(np.r_[p["b"], p["c"]]))
        model.q_lower = nn.Linear(width + top, 2 * lower)
        weight = np.zeros((2 * lower, width + top))
        weight[:lower, width:] = p["G"]  # Δμ reads z2 only; Δv is a constant
        model.q_lower.weight.copy_(t(weight))
        model.q_lower.bias.copy_(t(np.r_[p["delta"], p["v"]]))
    return model, p


def test_bottom_level_kl_by_hand():
    """KL_d(z2) = ½((G z2 + δ)_d² e^{-c_d} + e^{v_d} − 1 − v_d), and over z2 ~ N(m2, diag s2²)
    E[(g_d·z2 + δ_d)²] = (g_d·m2 + δ_d)² + Σ_j g_dj² s2_j²."""
    model, p = linear_hvae()
    model.show_level("bottom")
    x = torch.rand(30, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    lat = LatentSet(np.zeros((30, 3)), np.zeros((30, 3)))  # the bottom level reads the images
    kl = prior_kl(model, lat, x.numpy(), n_draws=200, seed=4)
    second_moment = (p["G"] @ p["m2"] + p["delta"]) ** 2 + (p["G"] ** 2) @ np.exp(p["lv2"])
    expected = 0.5 * (second_moment * np.exp(-p["c"]) + np.exp(p["v"]) - 1.0 - p["v"])
    assert kl.stderr is not None and kl.stderr.max() < 0.1
    assert np.all(np.abs(kl.per_dim - expected) < 4 * kl.stderr + 2e-3)
    assert kl.total == pytest.approx(kl.per_dim.sum())  # the level's KL term: they add up
    assert "p(z1|z2)" in kl.against
    with pytest.raises(ValueError, match="needs the images"):
        prior_kl(model, lat)


def test_top_level_is_the_closed_form_against_the_standard_normal():
    model, p = linear_hvae()
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, logvar = model.encode(x)
    lat = LatentSet(mu.double().numpy(), logvar.double().numpy())
    kl = prior_kl(model, lat, x.numpy())
    expected = gaussian_kl(p["m2"], np.exp(p["lv2"]), 0.0, 1.0)
    np.testing.assert_allclose(kl.per_dim, expected, rtol=1e-5)
    assert kl.stderr is None


def test_a_point_encoder_is_refused():
    with pytest.raises(ValueError, match="needs a posterior"):
        prior_kl(nn.Identity(), LatentSet(np.zeros((3, 2)), None))


def test_the_standard_error_is_the_spread_of_repeated_estimates():
    """The stated Monte Carlo standard error against the spread of 40 estimates with other seeds
    (the inputs held fixed): their standard deviation, within sampling error of 40 draws."""
    prior = two_components()
    lat = some_posteriors(8, 2, seed=6)
    runs = [mixture_kl(lat, prior, n_draws=50, seed=s) for s in range(40)]
    spread = np.std([r.per_dim for r in runs], axis=0, ddof=1)
    stated = np.mean([r.stderr for r in runs], axis=0)
    np.testing.assert_allclose(spread, stated, rtol=0.35)


def test_a_large_set_is_averaged_over_evenly_spaced_inputs():
    """kl_per_dim_of on a set larger than max_inputs: the first half of the posteriors equal the
    one-Gaussian VampPrior N(m, s²) (KL 0), the second half sit 3 away in dimension 0 (KL
    9/(2s²) there), so the mean over inputs is half of that; a subset taken from one end of the
    set would give 0 or the full value."""
    m, s = np.array([0.5, -1.0]), np.array([0.8, 1.5])
    model = one_gaussian_vamp(m, s)
    n = 400
    mu = np.tile(m, (n, 1))
    mu[n // 2 :, 0] += 3.0
    lat = LatentSet(mu, np.tile(2 * np.log(s), (n, 1)))
    images = torch.zeros((n, 1, 8, 8), dtype=torch.uint8)
    kl = kl_per_dim_of(model, lat, images, max_inputs=50)
    # Monte Carlo: 16 draws of 25 far inputs, standard error about 0.19 nats; one end gives 0 or 7.0
    assert abs(kl[0] - 0.5 * 9 / (2 * s[0] ** 2)) < 0.6
    assert abs(kl[1]) < 0.15  # KL 0, standard error about 0.035
