"""Fully connected encoder and decoder (the MLP family of Kingma & Welling 2014)."""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}


def _stack(widths: list[int], activation: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
    return layers


class MLPEncoder(nn.Module):
    """(B, C, H, W) images -> (B, n_out) features through hidden widths ``hidden``."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        hidden: tuple[int, ...],
        n_out: int,
        activation: str,
    ) -> None:
        super().__init__()
        n_in = math.prod(image_shape)
        self.net = nn.Sequential(nn.Flatten(), *_stack([n_in, *hidden, n_out], activation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """(B, latent_dim) codes -> (B, C, H, W) image parameters; widths mirror the encoder."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        hidden: tuple[int, ...],
        latent_dim: int,
        activation: str,
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        n_out = math.prod(image_shape)
        self.net = nn.Sequential(*_stack([latent_dim, *reversed(hidden), n_out], activation))
        self.net.append(nn.Unflatten(1, image_shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
