"""Encoding accepts images as an ImageSet, a uint8 tensor or a [0, 1] float tensor alike."""

from __future__ import annotations

import numpy as np
import torch

from vae_atlas.analysis.encode import encode_images, raw_pixels
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet
from vae_atlas.models import build_model


def _model():
    torch.manual_seed(0)
    return build_model(
        ModelConfig(family="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))
    ).eval()


def test_uint8_tensors_are_scaled_like_an_image_set():
    pixels = torch.randint(0, 256, (20, 1, 8, 8), dtype=torch.uint8)
    model = _model()
    from_set = encode_images(model, ImageSet(pixels, torch.arange(20) % 3))
    from_uint8 = encode_images(model, pixels)
    from_float = encode_images(model, pixels.float() / 255)
    np.testing.assert_allclose(from_uint8.mu, from_set.mu, rtol=1e-6)
    np.testing.assert_allclose(from_float.mu, from_set.mu, atol=1e-6)  # x/255 vs x·(1/255)
    assert from_set.labels is not None and from_uint8.labels is None
    np.testing.assert_allclose(
        neg_elbo_per_image(model, pixels), neg_elbo_per_image(model, ImageSet(pixels))
    )


def test_raw_pixels_scale():
    assert raw_pixels(torch.zeros(1, dtype=torch.uint8))[1] == 1 / 255
    assert raw_pixels(torch.zeros(1))[1] == 1.0
