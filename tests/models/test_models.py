import math

import pytest
import torch

from vae_atlas.config import ConfigError, ModelConfig
from vae_atlas.models import (
    BernoulliLikelihood,
    GaussianLikelihood,
    ModelAdapter,
    as_latent_model,
    build_model,
    gaussian_kl_per_dim,
)

SHAPES = [(1, 28, 28), (3, 32, 32), (1, 64, 64), (3, 64, 64), (3, 128, 128)]


@pytest.mark.parametrize("family", ["mlp", "conv"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "objective", ["ae", "vae", "beta-vae", "iwae", "beta-tcvae", "dip-vae", "factor-vae"]
)
def test_every_family_and_objective_round_trips_shapes(family, shape, objective):
    hidden = (64, 32) if family == "mlp" else (8, 16, 16)
    cfg = ModelConfig(
        family=family,
        image_shape=shape,
        latent_dim=3,
        hidden=hidden,
        objective=objective,
        beta=4.0 if objective == "beta-vae" else 1.0,
        iwae_k=3,
        **({"factor_hidden": (16,)} if objective == "factor-vae" else {}),
    )
    model = build_model(cfg)
    x = torch.rand(5, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == (5, 3)
    assert (logvar is None) == (objective == "ae")
    out = model.decode(mu)
    assert out.shape == (5, *shape)
    assert out.min() >= 0 and out.max() <= 1
    terms = model.loss(x, generator=torch.Generator().manual_seed(0), k=3, dataset_size=100)
    assert terms.loss.ndim == 0 and torch.isfinite(terms.loss)
    terms.loss.backward()
    assert terms.kl_per_dim.shape == (3,)


def test_kl_closed_form():
    assert gaussian_kl_per_dim(torch.zeros(4), torch.zeros(4)).abs().max() < 1e-7
    mu, logvar = torch.tensor([1.0]), torch.tensor([math.log(4.0)])
    expected = 0.5 * (1.0 + 4.0 - 1.0 - math.log(4.0))
    assert gaussian_kl_per_dim(mu, logvar).item() == pytest.approx(expected)


def test_bernoulli_log_prob_matches_formula():
    x = torch.tensor([[[[1.0, 0.0]]]])
    logits = torch.tensor([[[[0.3, -1.2]]]])
    p = torch.sigmoid(logits)
    expected = math.log(p[0, 0, 0, 0]) + math.log(1 - p[0, 0, 0, 1])
    assert BernoulliLikelihood().log_prob(x, logits).item() == pytest.approx(expected, rel=1e-5)


def test_gaussian_log_prob_matches_scipy_constant():
    sigma = 0.2
    lik = GaussianLikelihood(sigma)
    params = torch.zeros(1, 1, 1, 3)  # mean 0.5 everywhere
    x = torch.tensor([[[[0.5, 0.7, 0.1]]]])
    d = x - 0.5
    expected = (-0.5 * (d / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)).sum()
    assert lik.log_prob(x, params).item() == pytest.approx(expected.item(), rel=1e-6)


def test_learned_sigma_is_a_parameter():
    model = build_model(ModelConfig(image_shape=(1, 8, 8), likelihood="gaussian", learn_sigma=True))
    names = [n for n, _ in model.named_parameters()]
    assert "likelihood.log_sigma" in names


def test_iwae_bound_not_below_elbo_on_average():
    torch.manual_seed(0)
    cfg = ModelConfig(
        image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), objective="iwae", iwae_k=50
    )
    model = build_model(cfg)
    x = torch.rand(64, 1, 8, 8).round()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        iwae = model.loss(x, k=50, generator=g).loss
        elbo = model.loss(x, k=1, generator=g).loss  # k=1 IWAE == ELBO
    assert iwae <= elbo + 1e-4


class UserModel(torch.nn.Module):
    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Linear(16, 4)
        self.dec = torch.nn.Linear(2, 16)

    def encode(self, x):
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]

    def decode(self, z):
        return self.dec(z).view(-1, 1, 4, 4)


def test_user_module_satisfies_protocol_through_adapter():
    model = as_latent_model(UserModel(), decode_returns_logits=True)
    assert isinstance(model, ModelAdapter)
    mu, logvar = model.encode(torch.rand(3, 1, 4, 4))
    assert mu.shape == logvar.shape == (3, 2)
    out = model.decode(mu)
    assert out.shape == (3, 1, 4, 4) and out.min() >= 0 and out.max() <= 1


def test_adapter_rejects_module_without_encode():
    with pytest.raises(TypeError, match="encode"):
        as_latent_model(torch.nn.Linear(2, 2))


@pytest.mark.parametrize("shape", [(3, 96, 96), (3, 64, 32), (2, 64, 64)])
def test_conv_refuses_other_sizes_naming_the_ones_it_supports(shape):
    with pytest.raises(ConfigError, match=r"1 or 3 channels at 28x28, 32x32, 64x64, 128x128"):
        ModelConfig(family="conv", image_shape=shape)
