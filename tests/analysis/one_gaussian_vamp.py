"""A VampPrior whose prior is one known Gaussian: one pseudo-input and an encoder whose every
output is N(m, s²) (its last layer's weights zeroed, its bias set), so the prior p(z) = N(m, s²)
and every posterior equals it — the case where the KL against the model's own prior is 0 and has
a closed form for any other posterior."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.models import VampPriorVAE, build_model


def one_gaussian_vamp(m: np.ndarray, s: np.ndarray, *, seed: int = 0) -> VampPriorVAE:
    """A 2-D VampPrior on 8×8 images whose prior and every posterior are N(m, diag(s²))."""
    torch.manual_seed(seed)
    cfg = ModelConfig(objective="vamp", image_shape=(1, 8, 8), hidden=(8,), latent_dim=len(m),
                      pseudo_inputs=1)  # fmt: skip
    model = build_model(cfg)
    assert isinstance(model, VampPriorVAE)
    last = model.encoder.net[-1]
    assert isinstance(last, nn.Linear) and last.out_features == 2 * len(m)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.as_tensor(np.r_[m, 2 * np.log(s)]))
    return model
