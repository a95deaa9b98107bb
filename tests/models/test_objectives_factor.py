"""FactorVAE: the discriminator's loss by hand, the per-dimension permutation, and which weights
each part of the loss may move."""

from __future__ import annotations

import math

import pytest
import torch

from vae_atlas.config import ConfigError, ModelConfig, RunConfig
from vae_atlas.models import build_model
from vae_atlas.models.objectives import FactorVAE, discriminator_loss, factor_loss, permute_dims


def test_discriminator_loss_by_hand():
    # D = sigmoid(ℓ): ℓ = 0 → D = ½; ℓ = ln 3 → D = ¾; ℓ = −ln 3 → D = ¼
    joint = torch.tensor([0.0, math.log(3.0)])
    permuted = torch.tensor([0.0, -math.log(3.0)])
    # −½·mean(log ½, log ¾) − ½·mean(log(1 − ½), log(1 − ¼)) = ½ (ln 2 + ln 4/3)
    expected = 0.5 * (math.log(2.0) + math.log(4.0 / 3.0))
    assert float(discriminator_loss(joint, permuted)) == pytest.approx(expected, rel=1e-6)
    # a perfect discriminator costs nothing, a fooled one a lot
    big = torch.tensor([50.0])
    assert float(discriminator_loss(big, -big)) == pytest.approx(0.0, abs=1e-12)
    assert float(discriminator_loss(-big, big)) == pytest.approx(50.0, rel=1e-6)


def test_each_dimension_gets_its_own_permutation():
    batch, dim = 64, 6
    z = torch.arange(batch, dtype=torch.float32).unsqueeze(1).repeat(1, dim)  # equal columns
    z = z + 1000.0 * torch.arange(dim)  # column d holds 1000·d + 0..63
    shuffled = permute_dims(z, torch.Generator().manual_seed(0))
    orders = []
    for d in range(dim):
        column = shuffled[:, d] - 1000.0 * d
        assert sorted(column.tolist()) == list(range(batch))  # a permutation of its own column
        orders.append(tuple(column.long().tolist()))
    assert len(set(orders)) == dim  # no two dimensions share a permutation
    assert orders[0] != tuple(range(batch))


def test_permuting_removes_the_correlation_between_dimensions():
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(4000, 1, generator=gen)
    z = torch.cat([a, a + 0.1 * torch.randn(4000, 1, generator=gen)], dim=1)  # corr ≈ 0.995
    shuffled = permute_dims(z, gen)
    corr = torch.corrcoef(shuffled.T)[0, 1]
    assert abs(float(corr)) < 0.05  # 4000 independent pairs: std of r ≈ 0.016
    # the marginals are untouched
    torch.testing.assert_close(shuffled.sort(0).values, z.sort(0).values)


def factor_model(gamma: float = 35.0) -> FactorVAE:
    torch.manual_seed(0)
    cfg = ModelConfig(
        image_shape=(1, 8, 8),
        latent_dim=3,
        hidden=(16,),
        objective="factor-vae",
        factor_gamma=gamma,
        factor_hidden=(12, 12),
    )
    model = build_model(cfg)
    assert isinstance(model, FactorVAE)
    return model


def grads(gamma: float, seed: int = 4) -> dict[str, torch.Tensor]:
    """Every weight's gradient of the loss of one batch, for a model seeded alike each time."""
    model = factor_model(gamma)
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    mu, logvar = model.encode(x)
    terms = factor_loss(
        model,
        x,
        mu,
        logvar,
        kl_weight=1.0,
        dataset_size=None,
        generator=torch.Generator().manual_seed(seed),
    )
    terms.loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def test_the_tc_term_never_trains_the_discriminator():
    """γ weighs the TC estimate the autoencoder minimises; the discriminator's gradients must
    be those of its own loss alone, whatever γ is."""
    low, high = grads(0.0), grads(35.0)
    for name in low:
        if name.startswith("discriminator."):
            torch.testing.assert_close(low[name], high[name], rtol=0, atol=0)
    assert not torch.equal(low["encoder.net.1.weight"], high["encoder.net.1.weight"])


def test_the_discriminator_loss_never_reaches_the_encoder():
    """The encoder's gradient is that of recon + KL + γ·mean ℓ(z) alone, written out here."""
    full = grads(10.0, seed=6)
    model = factor_model(gamma=10.0)
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(6))
    z = mu + eps * (0.5 * logvar).exp()  # the same draw: the noise comes first
    recon = -model.log_px_given_z(x, z).mean()
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1).mean()
    (recon + kl + 10.0 * model.discriminator(z).mean()).backward()
    for name, p in model.named_parameters():
        if not name.startswith("discriminator."):
            torch.testing.assert_close(full[name], p.grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"objective": "factor-vae", "factor_gamma": -1.0}, "model.factor_gamma=-1.0 must be >= 0"),
        ({"objective": "factor-vae", "factor_lr": 0.0}, "model.factor_lr=0.0 must be > 0"),
        ({"objective": "ae", "factor_gamma": 10.0}, "applies to objective='factor-vae', not 'ae'"),
        ({"objective": "factor-vae", "factor_hidden": ()}, "model.factor_hidden must list"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_field(fields, message):
    with pytest.raises(ConfigError, match=message) as info:
        ModelConfig(**fields)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"objective": "factor-vae", "factor_gamma": 6.4, "factor_hidden": (32, 8)},
        {"objective": "beta-tcvae", "tc_alpha": 0.5, "tc_estimator": "mws"},
        {"objective": "dip-vae", "dip_type": "ii", "dip_lambda_od": 2.5},
    ],
)
def test_the_settings_survive_the_run_config_file(fields):
    config = RunConfig(model=ModelConfig(image_shape=(1, 8, 8), **fields))
    again = RunConfig.from_json(config.to_json())
    assert again == config
    for name, value in fields.items():
        assert getattr(again.model, name) == value
