"""The logistic-form decoder computes the same log p(x|z) as the model, only faster."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vae_atlas.analysis.logistic_decoder as logistic
from vae_atlas.analysis.likelihood import iwae_nll_per_image, log_importance_weights
from vae_atlas.analysis.logistic_decoder import LogisticFormDecoder, is_binary
from vae_atlas.config import ModelConfig
from vae_atlas.models import build_model


def _model(activation: str = "tanh", *, hidden=(40, 30), likelihood="bernoulli", scale=1.0):
    cfg = ModelConfig(
        family="mlp",
        image_shape=(1, 8, 8),
        latent_dim=4,
        hidden=hidden,
        activation=activation,
        likelihood=likelihood,
    )
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    with torch.no_grad():  # larger weights: confident logits, as in a trained model
        for p in model.decoder.parameters():
            p.mul_(scale)
    return model


def _codes(n_images: int = 6, n_draws: int = 50, spread: float = 2.0) -> torch.Tensor:
    return spread * torch.randn(n_images, n_draws, 4, generator=torch.Generator().manual_seed(1))


def _images(n_images: int = 6) -> torch.Tensor:
    return torch.bernoulli(
        torch.full((n_images, 1, 8, 8), 0.3), generator=torch.Generator().manual_seed(2)
    )


def _module_log_px(model, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    batch, n_draws, dim = z.shape
    x_rep = x.repeat_interleave(n_draws, 0)  # (B·S, C, H, W)
    return model.log_px_given_z(x_rep, z.reshape(-1, dim)).view(batch, n_draws)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("hidden", [(40,), (40, 30), (40, 30, 20)])
def test_equals_the_models_own_likelihood(activation, hidden):
    model = _model(activation, hidden=hidden, scale=3.0)
    fast = LogisticFormDecoder.from_model(model)
    assert fast is not None
    x, z = _images(), _codes()
    with torch.no_grad():
        expected = _module_log_px(model, x, z)
        got = fast.log_px(x, z)
    assert expected.min() < -40  # confident wrong pixels are in the test
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-3)


def test_rows_outside_float32s_range_are_recomputed_exactly(monkeypatch):
    model = _model("tanh", scale=40.0)  # logits of several hundred: σ products underflow
    fast = LogisticFormDecoder.from_model(model)
    x, z = _images(), _codes()
    unsafe = []  # rows sent to the exact path, per call
    multiply = logistic._multiply_in_groups

    def counting_multiply(p: torch.Tensor) -> torch.Tensor:
        products = multiply(p)
        unsafe.append(int((products < logistic.SAFE_PRODUCT).any(-1).sum()))
        return products

    monkeypatch.setattr(logistic, "_multiply_in_groups", counting_multiply)
    with torch.no_grad():
        expected = _module_log_px(model, x, z)
        got = fast.log_px(x, z)
    assert 0 < unsafe[0] < z.shape[0] * z.shape[1]  # some rows, not all, took the exact path
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-2)


@pytest.mark.parametrize(
    "model",
    [
        lambda: _model("elu"),
        lambda: _model("tanh", likelihood="gaussian"),
        lambda: build_model(
            ModelConfig(
                family="conv", image_shape=(1, 28, 28), latent_dim=2, likelihood="bernoulli"
            )
        ),
    ],
    ids=["elu", "gaussian", "conv"],
)
def test_other_models_keep_their_own_path(model):
    assert LogisticFormDecoder.from_model(model()) is None


def test_grey_images_use_the_models_own_path():
    model = _model("tanh")
    fast = LogisticFormDecoder.from_model(model)
    x = torch.rand(3, 1, 8, 8)
    assert not is_binary(x) and is_binary(_images())
    mu, logvar = model.encode(x)
    eps = _codes(3, 5)
    with torch.no_grad():
        with_fast = log_importance_weights(model, x, mu, logvar, eps, fast)
        without = log_importance_weights(model, x, mu, logvar, eps)
    torch.testing.assert_close(with_fast, without)


def test_iwae_estimate_is_unchanged_by_the_rewrite(monkeypatch):
    model = _model("tanh", scale=2.0)
    x = _images(12)
    fast = iwae_nll_per_image(model, x, k=300, rows=1000, seed=5)
    monkeypatch.setattr(LogisticFormDecoder, "from_model", classmethod(lambda cls, m: None))
    generic = iwae_nll_per_image(model, x, k=300, rows=1000, seed=5)
    np.testing.assert_allclose(fast, generic, rtol=0, atol=2e-3)


def test_a_float64_model_stays_float64():
    model = _model("tanh", scale=3.0).double()
    fast = LogisticFormDecoder.from_model(model)
    x, z = _images(), _codes().double()
    with torch.no_grad():
        got = fast.log_px(x, z)
        expected = _module_log_px(model, x.double(), z)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
