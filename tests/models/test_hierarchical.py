"""The two-level hierarchical VAE against hand computation: both KL terms from the general
two-Gaussian KL formula, the importance weight of one draw from scipy densities, the ELBO ≤ IWAE
ordering, the shown level, and an overfitted batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from vae_atlas.analysis.likelihood import iwae_nll_per_image, neg_elbo_per_image
from vae_atlas.config import DataConfig, ModelConfig
from vae_atlas.data import load_dataset
from vae_atlas.models import HierarchicalVAE, build_model, prior_of

from .one_batch import entropy_floor, fit_one_batch, mean_recon


def hvae(top: int = 2, lower: int = 3, seed: int = 0) -> HierarchicalVAE:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        objective="hvae", image_shape=(1, 8, 8), hidden=(16,), latent_dim=top,
        lower_latent_dim=lower,
    )  # fmt: skip
    model = build_model(cfg)
    assert isinstance(model, HierarchicalVAE)
    return model


def gaussian_kl(m1, v1, m2, v2) -> np.ndarray:
    """KL(N(m1, v1) ‖ N(m2, v2)) per element for variances v: ½ log(v2/v1) + (v1 + (m1−m2)²)/2v2
    − ½ (the textbook formula, not the residual one the model uses)."""
    return 0.5 * np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5


def numpy_pass(model, x, seed):
    """The draw ``infer`` makes with ``seed``, as float64 numpy arrays."""
    with torch.no_grad():
        p = model.infer(x, torch.Generator().manual_seed(seed))
    return {k: getattr(p, k).double().numpy() for k in p.__dataclass_fields__}


def test_both_kl_terms_by_hand():
    model = hvae()
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    p = numpy_pass(model, x, seed=7)
    kl_top = gaussian_kl(p["mu2"], np.exp(p["logvar2"]), 0.0, 1.0).sum(1)
    kl_lower = gaussian_kl(
        p["mu1"], np.exp(p["logvar1"]), p["prior_mu1"], np.exp(p["prior_logvar1"])
    ).sum(1)
    with torch.no_grad():
        recon, kl, kl_dims = model.elbo_terms(x, torch.Generator().manual_seed(7))
    np.testing.assert_allclose(kl.double().numpy(), kl_top + kl_lower, rtol=1e-4, atol=1e-5)
    # the top level is shown: its KL per dimension
    np.testing.assert_allclose(kl_dims.double().numpy().sum(1), kl_top, rtol=1e-4, atol=1e-5)
    assert kl_lower.min() > 1e-3  # the lower KL is really there, not only the top one


def test_lower_posterior_is_the_prior_moved_by_a_residual():
    """q(z1|x, z2) and p(z1|z2) share z2's top-down path: with the residual net zeroed the
    posterior equals the conditional prior, and the lower KL vanishes."""
    model = hvae()
    with torch.no_grad():
        for param in model.q_lower.parameters():
            param.zero_()
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    p = numpy_pass(model, x, seed=3)
    np.testing.assert_allclose(p["mu1"], p["prior_mu1"], atol=1e-6)
    kl_top = gaussian_kl(p["mu2"], np.exp(p["logvar2"]), 0.0, 1.0).sum(1)
    with torch.no_grad():
        _, kl, _ = model.elbo_terms(x, torch.Generator().manual_seed(3))
    np.testing.assert_allclose(kl.double().numpy(), kl_top, rtol=1e-4, atol=1e-6)


def test_one_importance_weight_by_hand():
    """log w = log p(x|z1) + log p(z1|z2) + log p(z2) − log q(z2|x) − log q(z1|x,z2), every
    density from scipy at the draw the model made."""
    model = hvae()
    x = torch.bernoulli(torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(4)))
    p = numpy_pass(model, x, seed=9)
    with torch.no_grad():
        logits = model.decoder(torch.as_tensor(p["z1"], dtype=torch.float32)).double().numpy()
        log_w = model.log_weights(x, 1, torch.Generator().manual_seed(9))[:, 0].double().numpy()
    xs = x.double().numpy().reshape(3, -1)
    lg = logits.reshape(3, -1)
    log_px = (xs * lg - np.logaddexp(0.0, lg)).sum(1)
    sd = lambda lv: np.exp(0.5 * lv)  # noqa: E731
    expected = (
        log_px
        + norm.logpdf(p["z1"], p["prior_mu1"], sd(p["prior_logvar1"])).sum(1)
        + norm.logpdf(p["z2"], 0.0, 1.0).sum(1)
        - norm.logpdf(p["z2"], p["mu2"], sd(p["logvar2"])).sum(1)
        - norm.logpdf(p["z1"], p["mu1"], sd(p["logvar1"])).sum(1)
    )
    np.testing.assert_allclose(log_w, expected, rtol=1e-5, atol=1e-3)


def test_elbo_is_below_the_importance_weighted_bound():
    model = hvae()
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    neg_elbo = neg_elbo_per_image(model, x, n_samples=200, seed=0)
    nll_k = {k: iwae_nll_per_image(model, x, k=k, seed=1) for k in (1, 10, 500)}
    # k = 1 is a one-draw ELBO: the same bound as the many-draw ELBO, up to noise
    assert nll_k[1].mean() == pytest.approx(neg_elbo.mean(), abs=0.3)
    assert neg_elbo.mean() > nll_k[10].mean() > nll_k[500].mean()
    assert np.mean(neg_elbo >= nll_k[500] - 0.05) > 0.95


def test_the_level_shown_changes_what_encode_and_decode_mean():
    model = hvae(top=2, lower=3)
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        mu2, _ = model.encode(x)
        assert model.latent_dim == 2 and mu2.shape == (4, 2)
        z2 = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
        top_images = model.decode(z2)
        z1_mean = model.lower_prior(z2)[0]
        model.show_level(1)
        assert model.latent_dim == 3 and model.encode(x)[0].shape == (4, 3)
        # a top-level code decodes through the mean of p(z1|z2)
        torch.testing.assert_close(model.decode(z1_mean), top_images)
    assert "bottom level z1" in model.level_label()
    with pytest.raises(ValueError, match="level=3"):
        model.show_level(3)


def test_the_lower_levels_prior_is_the_ancestral_marginal():
    """Level 1's prior: z2 ~ N(0, I), then p(z1|z2); its mixture's moments match ancestral draws."""
    model = hvae(top=2, lower=3)
    model.show_level(1)
    prior = prior_of(model)
    assert not prior.standard and prior.latent_dim == 3
    with torch.no_grad():
        z2 = torch.randn(20_000, 2, generator=torch.Generator().manual_seed(1))
        mean, logvar = model.lower_prior(z2)
        z1 = (
            mean
            + torch.randn(mean.shape, generator=torch.Generator().manual_seed(2))
            * (0.5 * logvar).exp()
        )
    draws = prior.sample(20_000, torch.Generator().manual_seed(3))
    torch.testing.assert_close(draws.mean(0), z1.mean(0), atol=0.05, rtol=0)
    torch.testing.assert_close(draws.std(0), z1.std(0), atol=0.05, rtol=0.05)
    model.show_level(2)
    assert prior_of(model).standard


def test_overfits_a_batch():
    """16 digits, 400 full-batch Adam steps at KL weight 0.01: the reconstruction NLL falls from
    about 44 nats (untrained) to within 1 nat of the batch's own entropy, Σ H(pixel) (a
    Bernoulli decoder's floor on grey-level targets), computed here by hand."""
    torch.set_num_threads(1)
    x = load_dataset(DataConfig(name="digits")).train.images[:16].float() / 255.0
    torch.manual_seed(0)
    model = build_model(ModelConfig(objective="hvae", image_shape=(1, 8, 8), hidden=(32,),
                                    latent_dim=4, lower_latent_dim=4))  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    terms = fit_one_batch(model, x, steps=400, lr=1e-2, generator=gen, kl_weight=0.01)
    assert mean_recon(model, x, gen) < entropy_floor(x) + 1.0
    kl = float(terms.kl.detach())
    assert math.isfinite(kl) and kl > 0.5
