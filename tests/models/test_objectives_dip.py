"""DIP-VAE's covariance penalty against a 2-D case worked by hand."""

from __future__ import annotations

import math

import pytest
import torch

from vae_atlas.config import ConfigError, ModelConfig
from vae_atlas.models import build_model
from vae_atlas.models.objectives import dip_covariance, dip_loss, dip_penalty

MU_CORR = torch.tensor([[0.0, -2.0], [2.0, -2.0], [1.0, 2.0], [1.0, 2.0]])
# posterior variances 0.5 and 2 in every row
VARS = torch.tensor([[0.5, 2.0], [0.5, 2.0], [0.5, 2.0], [0.5, 2.0]])


def test_type_i_covariance_and_penalty_by_hand():
    # MU_CORR: mean (1, 0); centred rows (−1,−2), (1,−2), (0,2), (0,2)
    # Var_1 = (1+1+0+0)/4 = 0.5; Var_2 = (4+4+4+4)/4 = 4; Cov = (2 − 2 + 0 + 0)/4 = 0
    cov = dip_covariance(MU_CORR, VARS.log(), "i")
    torch.testing.assert_close(cov, torch.tensor([[0.5, 0.0], [0.0, 4.0]]))
    # MU shifted: rows (0,−2), (2,−2), (0,2), (3,2): mean (1.25, 0)
    mu = torch.tensor([[0.0, -2.0], [2.0, -2.0], [0.0, 2.0], [3.0, 2.0]])
    # centred dim 1: −1.25, 0.75, −1.25, 1.75 → Var_1 = (1.5625+0.5625+1.5625+3.0625)/4 = 1.6875
    # Cov = (−1.25·−2 + 0.75·−2 + −1.25·2 + 1.75·2)/4 = (2.5 − 1.5 − 2.5 + 3.5)/4 = 0.5
    cov = dip_covariance(mu, VARS.log(), "i")
    torch.testing.assert_close(cov, torch.tensor([[1.6875, 0.5], [0.5, 4.0]]))
    # λ_od · 2 · 0.5² + λ_d · ((1.6875 − 1)² + (4 − 1)²) with λ_od = 10, λ_d = 100
    expected = 10 * 2 * 0.25 + 100 * (0.6875**2 + 9.0)
    assert float(dip_penalty(cov, lambda_od=10.0, lambda_d=100.0)) == pytest.approx(expected)


def test_type_ii_adds_the_mean_posterior_variance_to_the_diagonal():
    mu = torch.tensor([[0.0, -2.0], [2.0, -2.0], [0.0, 2.0], [3.0, 2.0]])
    cov = dip_covariance(mu, VARS.log(), "ii")
    torch.testing.assert_close(cov, torch.tensor([[1.6875 + 0.5, 0.5], [0.5, 4.0 + 2.0]]))
    # a batch of the prior's shape: means N(0, I)-like decorrelated with unit spread → zero
    zero = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # Cov = ½ I
    cov = dip_covariance(zero, torch.full((4, 2), math.log(0.5)), "ii")  # + ½ I
    assert float(dip_penalty(cov, lambda_od=5.0, lambda_d=5.0)) == pytest.approx(0.0, abs=1e-12)


def test_the_loss_adds_the_penalty_and_reports_the_true_kl():
    torch.manual_seed(0)
    cfg = ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), objective="dip-vae")
    model = build_model(cfg)
    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, logvar = model.encode(x)
        terms = dip_loss(
            model,
            x,
            mu,
            logvar,
            kl_weight=0.25,
            dataset_size=None,
            generator=torch.Generator().manual_seed(2),
        )
    kl = float((0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1).mean())
    centred = mu - mu.mean(0)
    c = centred.T @ centred / 8
    # type i defaults: λ_od = 10, λ_d = 10 λ_od
    penalty = 10 * 2 * float(c[0, 1]) ** 2 + 100 * float((c.diagonal() - 1).square().sum())
    assert float(terms.kl) == pytest.approx(kl, rel=1e-5)
    assert float(terms.loss) == pytest.approx(float(terms.recon) + 0.25 * kl + penalty, rel=1e-5)


def test_diagonal_weight_defaults_follow_the_type_and_can_be_given():
    assert ModelConfig(objective="dip-vae").dip_lambda_d == 100.0
    assert ModelConfig(objective="dip-vae", dip_type="ii", dip_lambda_od=3.0).dip_lambda_d == 3.0
    assert ModelConfig(objective="dip-vae", dip_lambda_d=7.0).dip_lambda_d == 7.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"objective": "dip-vae", "dip_type": "iii"}, "model.dip_type='iii' is not one of i, ii"),
        ({"objective": "dip-vae", "dip_lambda_od": -1.0}, "model.dip_lambda_od=-1.0 must be >= 0"),
        ({"objective": "beta-vae", "dip_type": "ii"}, "applies to objective='dip-vae'"),
        ({"objective": "dip-vae", "capacity_max": 5.0}, "model.capacity_max=5.0 applies"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_field(fields, message):
    with pytest.raises(ConfigError, match=message) as info:
        ModelConfig(**fields)
    assert "\n" not in str(info.value)
