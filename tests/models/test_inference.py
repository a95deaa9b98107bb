"""eval_mode always hands the model back in the mode it had; encode_batches equals one big call."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vae_atlas.analysis import decode_latents, encode_images, neg_elbo_per_image
from vae_atlas.models import encode_batches, eval_mode


class _Dropout(nn.Module):
    """mu = x·w with dropout (so eval mode matters), logvar = -1; the ``fail_at``-th call to
    encode or decode raises."""

    latent_dim = 2

    def __init__(self, stochastic: bool = True, fail_at: int | None = None) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.arange(8.0).view(4, 2) / 10)
        self.drop = nn.Dropout(0.5)
        self.stochastic, self.fail_at, self.calls = stochastic, fail_at, 0

    def _count(self) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("batch failed")

    def encode(self, x):
        self._count()
        mu = self.drop(x.flatten(1)) @ self.w  # (B, 2)
        return mu, (torch.full_like(mu, -1.0) if self.stochastic else None)

    def decode(self, z):
        self._count()
        return torch.sigmoid(z @ self.w.T).view(-1, 1, 2, 2)

    def log_px_given_z(self, x, z):
        return -((x.flatten(1) - torch.sigmoid(z @ self.w.T)) ** 2).sum(1)


@pytest.mark.parametrize("training", [True, False])
def test_previous_mode_is_restored_even_when_the_block_raises(training):
    model = _Dropout().train(training)
    with eval_mode(model) as inside:
        assert inside is model and not model.training and not model.drop.training
    assert model.training is training
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("boom")
    assert model.training is training and model.drop.training is training


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: encode_images(m, x, batch_size=2),
        lambda m, x: neg_elbo_per_image(m, x, batch_size=2),
        lambda m, x: decode_latents(m, torch.zeros(5, 2).numpy(), batch_size=2),
    ],
)
def test_a_failing_batch_leaves_a_training_model_training(call):
    model = _Dropout(fail_at=2).train()
    with pytest.raises(RuntimeError):
        call(model, torch.rand(5, 1, 2, 2))
    assert model.training and model.drop.training


def test_batched_encoding_equals_one_call_in_eval_mode():
    model = _Dropout().train()
    x = torch.rand(7, 1, 2, 2)
    mu, logvar = encode_batches(model, x, batch_size=3)
    assert torch.equal(mu, x.flatten(1) @ model.w.detach())  # no dropout: eval mode was on
    assert torch.equal(logvar, torch.full((7, 2), -1.0)) and model.training
    pixels = (x * 255).round().to(torch.uint8)
    mu_u8, _ = encode_batches(model, pixels, batch_size=2, scale=1 / 255)
    torch.testing.assert_close(mu_u8, (pixels.flatten(1) / 255) @ model.w.detach())
    ae_mu, ae_logvar = encode_batches(_Dropout(stochastic=False), x)
    assert ae_logvar is None and ae_mu.shape == (7, 2)
    empty_mu, empty_logvar = encode_batches(model, x[:0])
    assert empty_mu.shape == (0, 2) and empty_logvar is None
