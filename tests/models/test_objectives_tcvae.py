"""β-TCVAE's decomposition against truths it does not compute itself: the total correlation of a
Gaussian aggregate posterior in closed form, hand-written importance weights, the exact mean of
the stratified estimate over every batch, and the VAE loss it must reduce to."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from vae_atlas.config import ConfigError, ModelConfig
from vae_atlas.models import build_model
from vae_atlas.models.objectives import decompose_kl, log_importance_weights, tcvae_loss
from vae_atlas.models.vae import vae_loss

CORRELATED = [[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]]
POSTERIOR_VAR = 0.25
DATASET_SIZE = 10**6


def gaussian_codes(cov: list[list[float]], batch: int, seed: int = 0):
    """Posterior means x ~ N(0, Σ), posteriors N(x, s² I) and one sample z of each: the aggregate
    posterior is then N(0, Σ + s² I) exactly."""
    gen = torch.Generator().manual_seed(seed)
    sigma = torch.tensor(cov, dtype=torch.float64)
    dim = sigma.shape[0]
    mu = (
        torch.randn(batch, dim, generator=gen, dtype=torch.float64) @ torch.linalg.cholesky(sigma).T
    )
    logvar = torch.full_like(mu, math.log(POSTERIOR_VAR))
    z = mu + math.sqrt(POSTERIOR_VAR) * torch.randn(batch, dim, generator=gen, dtype=torch.float64)
    return z, mu, logvar


def gaussian_total_correlation(cov: list[list[float]]) -> float:
    """TC of N(0, Σ + s² I) = −½ log det of its correlation matrix."""
    agg = torch.tensor(cov, dtype=torch.float64) + POSTERIOR_VAR * torch.eye(len(cov))
    return float(-0.5 * (torch.logdet(agg) - torch.log(torch.diagonal(agg)).sum()))


def test_the_closed_form_total_correlation_of_the_test_distribution():
    # corr of [[1.25, 0.8], [0.8, 1.25]] is 0.64: TC = −½ log(1 − 0.64²)
    assert gaussian_total_correlation([[1.0, 0.8], [0.8, 1.0]]) == pytest.approx(
        -0.5 * math.log(1 - 0.64**2)
    )


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_total_correlation_of_correlated_codes_matches_the_closed_form(estimator):
    """2,000 codes, three correlated dimensions: TC = 0.351 nats. MSS estimates it directly; the
    published MWS reads (D − 1)·log N too high (its weights sum to 1/N), nothing else."""
    z, mu, logvar = gaussian_codes(CORRELATED, 2000)
    parts = decompose_kl(z, mu, logvar, dataset_size=DATASET_SIZE, estimator=estimator)
    offset = 2 * math.log(DATASET_SIZE) if estimator == "mws" else 0.0
    truth = gaussian_total_correlation(CORRELATED)
    assert truth == pytest.approx(0.3509, abs=1e-4)
    assert float(parts.total_correlation) - offset == pytest.approx(truth, abs=0.03)


def test_total_correlation_of_independent_codes_is_near_zero():
    z, mu, logvar = gaussian_codes([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], 2000, seed=1)
    parts = decompose_kl(z, mu, logvar, dataset_size=DATASET_SIZE, estimator="mss")
    assert abs(float(parts.total_correlation)) < 0.03


def test_importance_weights_by_hand():
    # N = 10 images, a batch of B = 3, so M = 2 others: own 1/N, one other (N − M)/(NM) = 0.4,
    # the remaining M − 1 others 1/M = 0.5; each row sums to 1
    mss = log_importance_weights(3, 10, "mss").exp()
    expected = torch.tensor(
        [[0.1, 0.4, 0.5], [0.5, 0.1, 0.4], [0.4, 0.5, 0.1]], dtype=torch.float64
    )
    torch.testing.assert_close(mss, expected)
    mws = log_importance_weights(3, 10, "mws").exp()
    torch.testing.assert_close(mws, torch.full((3, 3), 1 / 30, dtype=torch.float64))
    assert float(log_importance_weights(1, 10, "mss").exp()) == pytest.approx(0.1)


def test_stratified_estimate_averaged_over_every_batch_is_the_aggregate_density():
    """For a sample z of image 0, the MSS estimate of q(z) averaged over every ordered choice of
    the batch's other images equals (1/N) Σ_n q(z | x_n) exactly (its unbiasedness)."""
    n_images, batch = 6, 3
    gen = torch.Generator().manual_seed(3)
    mu = torch.randn(n_images, 1, generator=gen, dtype=torch.float64)
    logvar = torch.randn(n_images, 1, generator=gen, dtype=torch.float64) * 0.3
    z0 = torch.tensor([0.2], dtype=torch.float64)
    densities = torch.exp(-0.5 * (z0 - mu).square() / logvar.exp()) / torch.sqrt(
        2 * math.pi * logvar.exp()
    )  # q(z0 | x_n) for every image, (N, 1)
    exact = float(densities.mean())
    log_w = log_importance_weights(batch, n_images, "mss")
    estimates = [
        float((log_w[0].exp() * densities[[0, *others], 0]).sum())
        for others in itertools.permutations(range(1, n_images), batch - 1)
    ]
    assert sum(estimates) / len(estimates) == pytest.approx(exact, rel=1e-12)


def tc_model(**fields) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = ModelConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(16,), **fields)
    return build_model(cfg)


def test_unit_weights_reduce_to_the_vae_loss():
    """α = β = γ = 1: recon + KL exactly, with either estimator."""
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    for estimator in ("mss", "mws"):
        model = tc_model(objective="beta-tcvae", tc_beta=1.0, tc_estimator=estimator)
        with torch.no_grad():
            mu, logvar = model.encode(x)
            tc = tcvae_loss(
                model,
                x,
                mu,
                logvar,
                kl_weight=1.0,
                dataset_size=1000,
                generator=torch.Generator().manual_seed(5),
            )
            plain = vae_loss(model, x, mu, logvar, 1.0, 0.0, torch.Generator().manual_seed(5))
        assert float(tc.loss) == pytest.approx(float(plain.loss), rel=1e-6)
        assert float(tc.kl) == pytest.approx(float(plain.kl), rel=1e-6)


def test_the_three_terms_add_up_to_the_one_sample_kl_estimate():
    """MI + TC + DWKL telescopes to the batch mean of log q(z|x) − log p(z), whichever the
    estimator (its bias cancels), written out here per dimension."""
    z, mu, logvar = gaussian_codes(CORRELATED, 64, seed=2)
    var = logvar.exp()
    log_q = (-0.5 * ((z - mu) ** 2 / var + logvar + math.log(2 * math.pi))).sum(1)
    log_p = (-0.5 * (z**2 + math.log(2 * math.pi))).sum(1)
    for estimator in ("mss", "mws"):
        parts = decompose_kl(z, mu, logvar, dataset_size=5000, estimator=estimator)
        total = parts.mutual_information + parts.total_correlation + parts.dimensionwise_kl
        assert float(total) == pytest.approx(float((log_q - log_p).mean()), abs=1e-9)


def test_the_loss_weighs_each_term_and_reports_the_true_kl():
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    weights = {"tc_alpha": 2.0, "tc_beta": 6.0, "tc_gamma": 0.5}
    model = tc_model(objective="beta-tcvae", **weights)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        terms = tcvae_loss(
            model,
            x,
            mu,
            logvar,
            kl_weight=0.5,
            dataset_size=1000,
            generator=torch.Generator().manual_seed(5),
        )
        z = (
            mu
            + torch.randn(mu.shape, generator=torch.Generator().manual_seed(5))
            * (0.5 * logvar).exp()
        )
        parts = decompose_kl(z, mu, logvar, dataset_size=1000, estimator="mss")
    kl = float((0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1).mean())
    expected = float(terms.recon) + 0.5 * (
        kl
        + 1.0 * float(parts.mutual_information)
        + 5.0 * float(parts.total_correlation)
        - 0.5 * float(parts.dimensionwise_kl)
    )
    assert float(terms.kl) == pytest.approx(kl, rel=1e-5)
    assert float(terms.loss) == pytest.approx(expected, rel=1e-5)


def test_the_loss_needs_the_dataset_size():
    model = tc_model(objective="beta-tcvae")
    x = torch.rand(4, 1, 8, 8)
    with pytest.raises(ValueError, match="dataset_size"):
        model.loss(x)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"objective": "beta-tcvae", "tc_beta": -1.0}, "model.tc_beta=-1.0 must be >= 0"),
        ({"objective": "beta-tcvae", "tc_estimator": "kde"}, "model.tc_estimator='kde'"),
        ({"objective": "vae", "tc_beta": 2.0}, "applies to objective='beta-tcvae'"),
        ({"objective": "beta-tcvae", "beta": 4.0}, "model.beta=4.0 applies to objective"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_field(fields, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        ModelConfig(**fields)
    assert "\n" not in str(info.value)
