"""The analysis uses a model's own prior: the importance-weighted NLL and the ELBO on a
linear-Gaussian model with a Gaussian-mixture prior, where log p(x) is exact (a mixture of
Gaussians in x); prior samples; the aggregate posterior against the prior and its holes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from vae_atlas.analysis.aggregate import aggregate_density, hole_fraction
from vae_atlas.analysis.diagnostics import diagnose
from vae_atlas.analysis.encode import encode_images
from vae_atlas.analysis.evidence import Evidence, measure_evidence
from vae_atlas.analysis.likelihood import iwae_nll_per_image, neg_elbo_per_image
from vae_atlas.analysis.sampling import prior_samples
from vae_atlas.models import MixturePrior

from .linear_gaussian import LinearGaussianModel, make_linear_gaussian

MEANS = torch.tensor([[1.0, -0.5], [-1.0, 0.5], [0.2, 1.2]], dtype=torch.float64)
LOGVARS = torch.log(torch.tensor([[0.5, 0.3], [0.4, 0.6], [0.3, 0.3]], dtype=torch.float64))


class MixturePriorLinearGaussian(LinearGaussianModel):
    """The linear-Gaussian model with p(z) = (1/3) Σ_k N(m_k, S_k) instead of N(0, I)."""

    def prior_distribution(self) -> MixturePrior:
        return MixturePrior(MEANS.float(), LOGVARS.float(), "a three-component test mixture")

    def exact_log_px(self, x: torch.Tensor) -> np.ndarray:
        """log (1/K) Σ_k N(x; W m_k + b, W S_k Wᵀ + σ² I) per image."""
        w = self.w.detach().double().numpy()
        b = self.b.detach().double().numpy()
        flat = x.flatten(1).double().numpy()
        comps = [
            multivariate_normal(
                w @ m + b, w @ np.diag(np.exp(lv)) @ w.T + self.sigma**2 * np.eye(len(b))
            ).logpdf(flat)
            for m, lv in zip(MEANS.numpy(), LOGVARS.numpy(), strict=True)
        ]
        return logsumexp(np.stack(comps), axis=0) - math.log(len(comps))


def mixture_model() -> tuple[MixturePriorLinearGaussian, torch.Tensor]:
    base = make_linear_gaussian(data_dim=4, latent_dim=2, sigma=0.5, seed=3)
    model = MixturePriorLinearGaussian(
        base.w.data, base.b.data, base.sigma, base.enc_a.data, base.enc_c.data,
        base.enc_logvar.data + 0.3,  # a wider proposal: the posterior is a mixture
    )  # fmt: skip
    g = torch.Generator().manual_seed(4)
    pick = torch.randint(3, (12,), generator=g)
    z = MEANS.float()[pick] + torch.randn(12, 2, generator=g) * (0.5 * LOGVARS.float()[pick]).exp()
    x = z @ model.w.data.T + model.b.data + 0.5 * torch.randn(12, 4, generator=g)
    return model, x.view(12, 1, 1, 4)


def test_iwae_with_the_models_own_prior_approaches_the_exact_log_likelihood():
    model, x = mixture_model()
    exact = -model.exact_log_px(x)
    nll = iwae_nll_per_image(model, x, k=5000, seed=0)
    np.testing.assert_allclose(nll, exact, atol=0.05)  # each image: Monte Carlo noise
    assert nll.mean() == pytest.approx(exact.mean(), abs=0.01)
    # and it is a bound that tightens with k
    assert iwae_nll_per_image(model, x, k=5, seed=0).mean() > nll.mean()


def test_elbo_with_the_models_own_prior_is_a_bound_at_the_right_distance():
    """−ELBO ≥ −log p(x), and with a standard-normal prior the numbers would be far off."""
    model, x = mixture_model()
    exact = -model.exact_log_px(x)
    neg_elbo = neg_elbo_per_image(model, x, n_samples=4000, seed=0)
    assert np.all(neg_elbo > exact - 0.02)
    assert np.mean(neg_elbo - exact) < 1.0  # the gap of a reasonable proposal


def test_prior_samples_come_from_the_models_own_prior():
    model, _ = mixture_model()
    z = prior_samples(model, 3000, seed=1).z
    # mixture mean (1/3) Σ m_k and variance E[S] + Var(m) by hand
    mean = MEANS.numpy().mean(0)
    var = np.exp(LOGVARS.numpy()).mean(0) + MEANS.numpy().var(0)
    np.testing.assert_allclose(z.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(z.var(0), var, rtol=0.08)


def two_blobs() -> MixturePrior:
    return MixturePrior(
        torch.tensor([[4.0, 0.0], [-4.0, 0.0]]), torch.full((2, 2), math.log(0.25)), "blobs"
    )


def test_aggregate_density_shows_the_models_own_prior_on_the_plane():
    prior = two_blobs()
    mu = np.random.default_rng(0).standard_normal((500, 2))
    d = aggregate_density(mu, np.zeros_like(mu), size=81, extent=8.0, prior=prior)
    # at (4, 0): ½ N(0; 0, 0.25)² + ½ N(8; 0, 0.25)·N(0; 0, 0.25), i.e. ½ / (2π · 0.25)
    j = int(np.argmin(np.abs(d.axis - 4.0)))
    i = int(np.argmin(np.abs(d.axis - 0.0)))
    assert d.p[i, j] == pytest.approx(0.5 / (2 * math.pi * 0.25), rel=1e-6)
    assert d.p[i, i] == pytest.approx(0.0, abs=1e-12)  # the origin: between the blobs


def test_holes_are_measured_against_the_models_own_prior():
    """Codes that are the prior's own draws leave no holes; N(0, I) codes against the two blobs
    at ±4 leave almost all of its mass uncovered, and vice versa for the standard prior."""
    prior = two_blobs()
    rng = np.random.default_rng(1)
    pick = rng.integers(2, size=3000)
    blob_codes = np.array([[4.0, 0.0], [-4.0, 0.0]])[pick] + 0.5 * rng.standard_normal((3000, 2))
    centred = rng.standard_normal((3000, 2))
    assert hole_fraction(blob_codes, prior=prior) < 0.05
    assert hole_fraction(centred, prior=prior) > 0.9
    assert hole_fraction(blob_codes) > 0.5  # N(0, I): the centre is empty


def test_the_far_from_n01_rule_is_left_out_for_a_models_own_prior():
    """Means at radius 8 are "far outside the prior" only when the prior is N(0, I)."""
    mu = np.tile([[8.0, 0.0]], (50, 1)) + np.random.default_rng(0).standard_normal((50, 2)) * 0.1
    standard = {f.rule: f for f in diagnose(Evidence(mu=mu))}
    assert standard["far"].severity == "warning"
    own = {f.rule for f in diagnose(Evidence(mu=mu, prior_standard=False))}
    assert "far" not in own
    model, x = mixture_model()
    latents = encode_images(model, x)
    assert measure_evidence(model, latents, x.numpy()).prior_standard is False
