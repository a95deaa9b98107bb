"""VQ-VAE: the straight-through gradient, the EMA codebook, nearest-code assignment, dead-code
restarts, overfitting one batch, and a bit-identical resume — each against a hand-computed or
brute-force answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.models import build_model
from vae_atlas.models.vq import EMACodebook, perplexity, straight_through, vq_loss

from ..tiny_runs import assert_same_weights, train_with_a_resume, weights
from .one_batch import fit_one_batch, mean_wrong_pixels


def vq_config(**model_kw) -> ModelConfig:
    kw = {"family": "conv", "image_shape": (1, 8, 8), "latent_dim": 4, "hidden": (8, 16)}
    return ModelConfig(objective="vq-vae", **{**kw, "codebook_size": 16, **model_kw})


def test_straight_through_hands_the_codes_gradient_to_the_encoder_output():
    z_e = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z_q = torch.tensor([[0.5, 2.5], [3.0, 3.0]])
    st = straight_through(z_e, z_q)
    assert torch.equal(st.detach(), z_q)  # the forward pass sees the codes
    w = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    # recon = mean over the 2 rows of sum(w * z): d recon / d z_q = w / 2, handed to z_e;
    # commitment β Σ(z_e − z_q)² / 2 adds β (z_e − z_q) (β = 0.25)
    terms = vq_loss(-(w * st).sum(1), z_e, z_q, beta=0.25)
    terms.loss.backward()
    expected = torch.tensor([[0.5 + 0.125, -1.0 - 0.125], [0.25 + 0.0, 1.5 + 0.25]])
    assert torch.allclose(z_e.grad, expected)
    # commitment = ((0.5² + 0.5²) + (0 + 1²)) / 2
    assert float(terms.kl.detach()) == pytest.approx(0.75)


def test_the_encoder_learns_through_the_reconstruction_alone():
    model = build_model(vq_config(beta=0.0))
    terms = model.loss(torch.rand(6, 1, 8, 8), kl_weight=0.0, generator=torch.Generator())
    terms.loss.backward()
    first_conv = model.encoder.net[0].weight.grad
    assert first_conv is not None and float(first_conv.abs().sum()) > 0


def test_ema_update_by_hand_on_two_codes():
    book = EMACodebook(2, 1)
    book.embedding.copy_(torch.tensor([[0.0], [10.0]]))
    book.ema_sum.copy_(torch.tensor([[0.0], [10.0]]))
    book.ema_count.fill_(1.0)
    flat = torch.tensor([[1.0], [2.0], [9.0]])
    codes = book.assign(flat)
    assert codes.tolist() == [0, 0, 1]
    book.update(flat, codes, None)
    # N = 0.99·1 + 0.01·(2, 1) = (1.01, 1.00); m = 0.99·(0, 10) + 0.01·(1+2, 9) = (0.03, 9.99)
    assert book.ema_count.tolist() == pytest.approx([1.01, 1.00])
    assert book.ema_sum.flatten().tolist() == pytest.approx([0.03, 9.99])
    # e = m / N (the Laplace smoothing moves N by ~1e-5 here)
    assert book.embedding.flatten().tolist() == pytest.approx([0.03 / 1.01, 9.99], rel=1e-4)


def test_nearest_code_matches_brute_force():
    rng = np.random.default_rng(0)
    book = EMACodebook(7, 3)
    book.embedding.copy_(torch.as_tensor(rng.normal(size=(7, 3)), dtype=torch.float32))
    flat = rng.normal(size=(200, 3)).astype(np.float32)
    brute = [
        min(range(7), key=lambda k, row=row: sum((row - book.embedding[k].numpy()) ** 2))
        for row in flat
    ]
    assert book.assign(torch.as_tensor(flat)).tolist() == brute


def test_a_code_unused_for_long_enough_restarts_from_an_encoder_output():
    book = EMACodebook(3, 2, restart_after=2)
    book.embedding.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [100.0, 100.0]]))
    book.ema_sum.copy_(book.embedding)
    flat = torch.tensor([[0.1, 0.0], [0.9, 1.0], [1.1, 0.9], [0.0, 0.2]])
    gen = torch.Generator().manual_seed(0)
    book.update(flat, book.assign(flat), gen)
    assert book.embedding[2].tolist() == pytest.approx([100.0, 100.0])  # idle 1 step: kept
    book.update(flat, book.assign(flat), gen)
    restarted = book.embedding[2]
    assert any(torch.equal(restarted, row) for row in flat)  # idle 2 steps: an input now
    assert book.unused_steps.tolist() == [0, 0, 0]
    assert float(book.ema_count[2]) == 1.0


def test_perplexity_is_the_number_of_equally_used_codes():
    assert perplexity(torch.tensor([5, 5, 5, 5, 0, 0])) == pytest.approx(4.0)
    assert perplexity(torch.tensor([0, 9, 0])) == pytest.approx(1.0)


def test_vq_vae_overfits_one_batch():
    torch.manual_seed(0)
    x = (va.load_dataset(DataConfig(name="digits")).train.images[:8].float() / 255.0).round()
    model = build_model(vq_config(latent_dim=8, hidden=(16, 32), codebook_size=32))
    gen = torch.Generator().manual_seed(0)
    fit_one_batch(model, x, steps=200, lr=3e-3, generator=gen, kl_weight=0.25)
    model.eval()
    with torch.no_grad():
        x_hat = model.decode(model.encode(x)[0])
    # binary 8x8 digits: fewer than 2 of 64 pixels on the wrong side of 0.5 per image
    assert mean_wrong_pixels(x_hat, x) < 2.0


def test_vq_vae_needs_the_conv_family():
    with pytest.raises(ConfigError, match="family='conv'"):
        ModelConfig(objective="vq-vae", family="mlp")


def test_vq_vae_resume_is_bit_identical(tmp_path):
    digits = va.load_dataset(DataConfig(name="digits"))
    # 6 epochs of 21 steps: codes idle for 100 steps restart after the resume at epoch 3,
    # drawing from the restored generator
    cfg = RunConfig(
        data=DataConfig(name="digits"),
        model=vq_config(),
        train=TrainConfig(
            epochs=6, batch_size=64, probe_size=20, device="cpu", lr_final_fraction=1.0
        ),
    )
    full, part = train_with_a_resume(cfg, tmp_path, digits, stop_after=3)
    saved = weights(full)
    assert {"codebook.embedding", "codebook.ema_count", "codebook.unused_steps"} <= set(saved)
    assert_same_weights(full, part)
