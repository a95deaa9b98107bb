"""The training objectives against hand-computed values: the reparameterised sample with a known
ε, the IWAE bound on a model whose importance weights are all equal to p(x), and the KL and
reconstruction every objective with a Gaussian posterior reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vae_atlas.config import ModelConfig
from vae_atlas.models import build_model
from vae_atlas.models.vae import iwae_loss, reparameterize, vae_loss

from ..analysis.linear_gaussian import make_linear_gaussian, sample_x


def test_reparameterize_uses_the_standard_deviation_with_the_same_epsilon():
    mu = torch.tensor([[0.5, -1.0, 2.0]])
    logvar = torch.tensor([[math.log(4.0), math.log(0.25), 0.0]])  # σ = 2, 0.5, 1
    eps = torch.randn((1, 3), generator=torch.Generator().manual_seed(11))
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(11))
    expected = [0.5 + 2.0 * eps[0, 0].item(), -1.0 + 0.5 * eps[0, 1].item(), 2.0 + eps[0, 2].item()]
    assert z[0].tolist() == pytest.approx(expected, abs=1e-6)


def test_reparameterized_samples_have_the_posterior_spread():
    mu = torch.full((200_000, 1), 3.0)
    logvar = torch.full((200_000, 1), math.log(0.09))  # σ = 0.3, σ² = 0.09
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert float(z.mean()) == pytest.approx(3.0, abs=0.005)
    assert float(z.std()) == pytest.approx(0.3, rel=0.01)


def test_vae_loss_on_the_exact_posterior_averages_to_minus_log_px():
    """With q(z|x) the true posterior, E_q[−log p(x|z)] + KL(q ‖ p) = −log p(x) exactly."""
    model = make_linear_gaussian(encoder="exact", latent_dim=2, data_dim=4, sigma=0.5)
    x = sample_x(model, 4)
    exact = -model.exact_log_px(x).mean()
    xs = x.repeat(20_000, 1, 1, 1)  # many draws of z for the same four images
    mu, logvar = model.encode(xs)
    with torch.no_grad():
        terms = vae_loss(model, xs, mu, logvar, 1.0, 0.0, torch.Generator().manual_seed(0))
    assert float(terms.neg_elbo) == pytest.approx(exact, abs=0.03)


@pytest.mark.parametrize("k", [1, 2, 7, 50])
def test_iwae_loss_with_equal_weights_is_minus_log_px_for_every_k(k):
    """Every weight p(x|z)p(z)/q(z|x) equals p(x) under the true posterior, so the k-sample
    bound log (1/k) Σ w_i is log p(x) whatever k is (without the − log k it would be log k off)."""
    model = make_linear_gaussian(encoder="exact", latent_dim=2, data_dim=4, sigma=0.5)
    x = sample_x(model, 6)
    mu, logvar = model.encode(x)
    with torch.no_grad():
        terms = iwae_loss(model, x, mu, logvar, k=k, generator=torch.Generator().manual_seed(1))
    exact = -float(np.mean(model.exact_log_px(x)))
    assert float(terms.loss) == pytest.approx(exact, abs=1e-4)


def hand_kl(mu: torch.Tensor, logvar: torch.Tensor) -> float:
    """Batch mean of Σ_d ½(μ² + σ² − 1 − log σ²)."""
    mu, logvar = mu.detach(), logvar.detach()
    return float((0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1).mean())


def test_beta_vae_loss_weights_the_kl_by_beta():
    model = make_linear_gaussian(encoder="mismatched")
    x = sample_x(model, 5)
    mu, logvar = model.encode(x)
    with torch.no_grad():
        terms = vae_loss(model, x, mu, logvar, 4.0, 0.0, torch.Generator().manual_seed(2))
    assert float(terms.kl) == pytest.approx(hand_kl(mu, logvar), rel=1e-5)
    assert float(terms.loss) == pytest.approx(float(terms.recon) + 4.0 * float(terms.kl), rel=1e-6)


def test_capacity_penalises_a_kl_below_the_target_too():
    """Burgess et al.: β·|KL − C|, so a KL below C costs as much as one above it."""
    model = make_linear_gaussian(encoder="mismatched")
    x = sample_x(model, 5)
    mu, logvar = model.encode(x)
    kl = hand_kl(mu, logvar)
    for capacity in (kl + 3.0, kl - 0.5):
        with torch.no_grad():
            terms = vae_loss(model, x, mu, logvar, 2.0, capacity, torch.Generator().manual_seed(2))
        assert float(terms.loss) == pytest.approx(float(terms.recon) + 2.0 * abs(kl - capacity))


def test_iwae_loss_with_one_sample_averages_to_the_closed_form_elbo():
    """k = 1 is the ELBO; with an imperfect encoder its value depends on drawing z with the
    posterior's σ (the closed form of the linear-Gaussian model gives the exact mean)."""
    model = make_linear_gaussian(encoder="mismatched", latent_dim=2, data_dim=4, sigma=0.5)
    x = sample_x(model, 4).repeat(20_000, 1, 1, 1)
    mu, logvar = model.encode(x)
    with torch.no_grad():
        terms = iwae_loss(model, x, mu, logvar, k=1, generator=torch.Generator().manual_seed(3))
    assert float(terms.loss) == pytest.approx(-float(np.mean(model.exact_elbo(x[:4]))), abs=0.03)


@pytest.mark.parametrize(
    ("objective", "fields"),
    [
        ("vae", {}),
        ("beta-vae", {"beta": 3.0}),
        ("beta-tcvae", {}),
        ("dip-vae", {}),
        ("factor-vae", {"factor_hidden": (8,)}),
    ],
)
def test_every_gaussian_objective_reports_the_closed_form_kl_and_the_recon_at_its_draw(
    objective, fields
):
    """Whatever an objective adds to its loss, it reports the KL to N(0, I) per dimension and in
    total as ½(μ² + σ² − 1 − log σ²) (batch means), and the reconstruction NLL at the code
    μ + σ ε with ε the generator's first draw."""
    torch.manual_seed(0)
    cfg = ModelConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(16,), objective=objective,
                      **fields)  # fmt: skip
    model = build_model(cfg)
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        terms = model.loss(x, generator=torch.Generator().manual_seed(5), dataset_size=100)
        mu, logvar = model.encode(x)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(5))
        recon = -model.log_px_given_z(x, mu + eps * (0.5 * logvar).exp()).mean()
    m, v = mu.double().numpy(), logvar.double().numpy()
    kl_dims = 0.5 * (m**2 + np.exp(v) - 1.0 - v)  # (B, D)
    assert terms.kl_per_dim.tolist() == pytest.approx(kl_dims.mean(0).tolist(), rel=1e-5)
    assert float(terms.kl) == pytest.approx(float(kl_dims.sum(1).mean()), rel=1e-5)
    assert float(terms.recon) == pytest.approx(float(recon), rel=1e-6)
