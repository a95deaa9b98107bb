"""The VampPrior model against independent truth: its log-density against a brute-force mixture
of K Gaussians (scipy), the one-pseudo-input case against a single Gaussian, sampling against the
mixture's moments, the loss's KL against log q(z|x) − log p(z) by hand, and an overfitted batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm

from vae_atlas.config import ModelConfig
from vae_atlas.models import MixturePrior, VampPriorVAE, build_model, prior_of

from .one_batch import entropy_floor, fit_one_batch, mean_recon


def vamp(k: int = 7, latent_dim: int = 3, seed: int = 0, width: int = 16) -> VampPriorVAE:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        objective="vamp", image_shape=(1, 8, 8), hidden=(width,), latent_dim=latent_dim,
        pseudo_inputs=k,
    )  # fmt: skip
    model = build_model(cfg)
    assert isinstance(model, VampPriorVAE)
    return model


def brute_force_log_prior(z: np.ndarray, means: np.ndarray, logvars: np.ndarray) -> np.ndarray:
    """log (1/K) Σ_k Π_d N(z_d; m_kd, σ_kd²), one component and one dimension at a time."""
    k = len(means)
    comps = np.zeros((len(z), k))
    for j in range(k):
        for d in range(z.shape[1]):
            comps[:, j] += norm.logpdf(z[:, d], means[j, d], math.exp(0.5 * logvars[j, d]))
    return logsumexp(comps, axis=1) - math.log(k)


def encoded_pseudo_inputs(model: VampPriorVAE) -> tuple[np.ndarray, np.ndarray]:
    """The components by definition: the encoder's posterior of each pseudo-input u_k in [0, 1]."""
    with torch.no_grad():
        mu, logvar = model.encode(model.pseudo_inputs.clamp(0.0, 1.0))
    return mu.double().numpy(), logvar.double().numpy()


def test_log_prior_is_the_mixture_of_the_encoded_pseudo_inputs():
    model = vamp(k=7)
    means, logvars = encoded_pseudo_inputs(model)
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(1)) * 2.0
    with torch.no_grad():
        got = model.log_prior(z).double().numpy()
    np.testing.assert_allclose(got, brute_force_log_prior(z.double().numpy(), means, logvars),
                               rtol=0, atol=2e-4)  # fmt: skip


def test_one_pseudo_input_is_a_single_gaussian():
    model = vamp(k=1, latent_dim=2)
    means, logvars = encoded_pseudo_inputs(model)
    z = torch.tensor([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.25]])
    with torch.no_grad():
        got = model.log_prior(z).double().numpy()
    sd = np.exp(0.5 * logvars[0])
    expected = norm.logpdf(z.double().numpy(), means[0], sd).sum(1)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_mixture_density_far_from_every_component_is_still_exact():
    """Codes 40 σ away: the expanded squares must not lose the answer to cancellation."""
    means = torch.tensor([[0.0, 0.0], [3.0, -1.0]], dtype=torch.float64)
    logvars = torch.tensor([[0.0, -1.0], [-2.0, 0.5]], dtype=torch.float64)
    prior = MixturePrior(means, logvars, "two components")
    z = torch.tensor([[40.0, -40.0], [-25.0, 60.0], [3.0, -1.0]], dtype=torch.float64)
    expected = brute_force_log_prior(z.numpy(), means.numpy(), logvars.numpy())
    np.testing.assert_allclose(prior.log_prob(z).numpy(), expected, rtol=1e-9)


def test_prior_samples_have_the_mixture_moments():
    """Two equal-weight components at ±4 with σ = 0.5: mean 0, variance 16 + 0.25, half above 0."""
    means = torch.tensor([[4.0], [-4.0]])
    logvars = torch.full((2, 1), math.log(0.25))
    prior = MixturePrior(means, logvars, "±4")
    z = prior.sample(40_000, torch.Generator().manual_seed(0)).numpy()[:, 0]
    assert abs(z.mean()) < 0.06
    assert z.var() == pytest.approx(16.25, rel=0.02)
    assert np.mean(z > 0) == pytest.approx(0.5, abs=0.01)
    near = np.abs(np.abs(z) - 4.0) < 0.5  # within one σ of its component
    assert near.mean() == pytest.approx(0.6827, abs=0.01)


def test_the_model_samples_its_own_prior():
    model = vamp(k=5, latent_dim=2)
    means, logvars = encoded_pseudo_inputs(model)
    z = model.sample_prior(20_000, torch.Generator().manual_seed(3)).double().numpy()
    # mixture mean: the average of the component means; variance: E[σ²] + Var(means)
    np.testing.assert_allclose(z.mean(0), means.mean(0), atol=0.03)
    expected_var = np.exp(logvars).mean(0) + means.var(0)
    np.testing.assert_allclose(z.var(0), expected_var, rtol=0.05)
    assert prior_of(model).label.startswith("the learned VampPrior (5 pseudo-inputs")


def test_loss_kl_is_log_q_minus_log_prior_at_the_drawn_code():
    model = vamp(k=4, latent_dim=2)
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        terms = model.loss(x, generator=torch.Generator().manual_seed(5))
        mu, logvar = (t.double().numpy() for t in model.encode(x))
    eps = torch.randn((6, 2), generator=torch.Generator().manual_seed(5)).double().numpy()
    z = mu + eps * np.exp(0.5 * logvar)
    log_q = norm.logpdf(z, mu, np.exp(0.5 * logvar)).sum(1)
    means, logvars = encoded_pseudo_inputs(model)
    kl = log_q - brute_force_log_prior(z, means, logvars)
    assert float(terms.kl) == pytest.approx(kl.mean(), abs=1e-4)


@pytest.mark.parametrize("objective", ["vamp", "hvae"])
@pytest.mark.parametrize(("kl_weight", "capacity"), [(0.3, 0.0), (2.0, 40.0)])
def test_the_loss_weighs_the_batch_mean_kl_by_beta_and_the_capacity(objective, kl_weight, capacity):
    """A model with its own ``elbo_terms`` (VampPrior, hierarchical) minimises the batch mean
    recon + β·KL, or recon + β·|KL − C| with a capacity C (here above the KL, so the distance
    is C − KL), of the per-image terms at the same draw."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(objective=objective, image_shape=(1, 8, 8), hidden=(16,),
                                    latent_dim=2, pseudo_inputs=3, lower_latent_dim=3))  # fmt: skip
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        recon, kl, _ = model.elbo_terms(x, torch.Generator().manual_seed(2))
        terms = model.loss(
            x, kl_weight=kl_weight, capacity=capacity, generator=torch.Generator().manual_seed(2)
        )
    recon_mean, kl_mean = float(recon.mean()), float(kl.mean())
    assert kl_mean < capacity or not capacity
    penalty = capacity - kl_mean if capacity else kl_mean
    assert float(terms.kl) == pytest.approx(kl_mean, rel=1e-6)
    assert float(terms.loss) == pytest.approx(recon_mean + kl_weight * penalty, rel=1e-6)


def test_pseudo_inputs_start_as_training_images():
    model = vamp(k=5)
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 8, 8) * 20
    model.init_pseudo_inputs(images, torch.Generator().manual_seed(0))
    levels = sorted(round(float(u.mean()) * 255) for u in model.pseudo_inputs.detach())
    assert len(set(levels)) == 5  # five different images, no repeats
    assert all(v % 20 == 0 and 0 <= v <= 180 for v in levels)


def test_pseudo_inputs_are_parameters_that_learn():
    model = vamp(k=3)
    assert any(p is model.pseudo_inputs for p in model.parameters())
    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    model.loss(x, generator=torch.Generator().manual_seed(0)).loss.backward()
    assert model.pseudo_inputs.grad is not None and model.pseudo_inputs.grad.abs().sum() > 0


def test_overfits_a_batch():
    """16 digits, 400 full-batch Adam steps at KL weight 0.01: the reconstruction NLL falls from
    about 44 nats (untrained) to within 1 nat of the batch's own entropy, Σ H(pixel) (a
    Bernoulli decoder's floor on grey-level targets), computed here by hand."""
    from vae_atlas.config import DataConfig
    from vae_atlas.data import load_dataset

    torch.set_num_threads(1)
    x = load_dataset(DataConfig(name="digits")).train.images[:16].float() / 255.0
    model = vamp(k=4, latent_dim=4, width=32)
    model.init_pseudo_inputs(x, torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(0)
    terms = fit_one_batch(model, x, steps=400, lr=1e-2, generator=gen, kl_weight=0.01)
    assert mean_recon(model, x, gen) < entropy_floor(x) + 1.0
    assert math.isfinite(float(terms.kl)) and float(terms.kl) > 0.5
