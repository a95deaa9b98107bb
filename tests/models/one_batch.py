"""Fitting one batch, shared by the model tests: full-batch Adam steps on a model's own loss, and
the yardsticks the fitted model is held to, computed here from the images alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from vae_atlas.models import LossTerms


def fit_one_batch(
    model: nn.Module,
    x: torch.Tensor,
    *,
    steps: int,
    lr: float,
    generator: torch.Generator,
    **loss_kw: Any,
) -> LossTerms:
    """``steps`` Adam steps on ``model.loss(x, generator=generator, **loss_kw)`` for the one
    batch x (B, C, H, W); returns the last step's terms."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        terms = model.loss(x, generator=generator, **loss_kw)
        opt.zero_grad()
        terms.loss.backward()
        opt.step()
    return terms


def entropy_floor(x: torch.Tensor) -> float:
    """Σ over pixels of the Bernoulli entropy H(x_pixel), averaged over the images x (B, C, H, W)
    in [0, 1], in nats: the least reconstruction NLL a Bernoulli decoder can reach on grey
    levels."""
    p = x.double()
    h = -(p * p.clamp_min(1e-12).log() + (1 - p) * (1 - p).clamp_min(1e-12).log())
    return float(h.flatten(1).sum(1).mean())


def mean_recon(
    model: nn.Module, x: torch.Tensor, generator: torch.Generator, draws: int = 20
) -> float:
    """The reconstruction NLL of the batch x averaged over ``draws`` draws of the codes."""
    with torch.no_grad():
        recons = [float(model.loss(x, generator=generator).recon) for _ in range(draws)]
    return float(np.mean(recons))


def mean_wrong_pixels(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Per image, how many pixels of ``x_hat`` lie on the other side of 0.5 from ``x`` (both
    (B, C, H, W)), averaged over the images."""
    return float(((x_hat > 0.5) != (x > 0.5)).float().sum((1, 2, 3)).mean())
