"""Convolutional encoder and decoder for 28x28, 32x32, 64x64 and 128x128 images with 1 or 3
channels.

Each stage halves the resolution with a 4x4 stride-2 convolution (the DCGAN / Higgins et al.
2017 layout); the decoder mirrors it with transposed convolutions whose output sizes are pinned to
the encoder's, so odd sizes (28 -> 14 -> 7 -> 4) round-trip exactly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from vae_atlas.models.mlp import ACTIVATIONS


def _stage_sizes(size: int, n_stages: int) -> list[int]:
    sizes = [size]
    for _ in range(n_stages):
        sizes.append((sizes[-1] + 2 - 4) // 2 + 1)
    return sizes


class ConvEncoder(nn.Module):
    """(B, C, H, W) -> (B, n_out): stride-2 conv stages with ``hidden`` channels, then a linear."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        hidden: tuple[int, ...],
        n_out: int,
        activation: str,
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        layers: list[nn.Module] = []
        for ch_in, ch_out in zip((c, *hidden[:-1]), hidden, strict=True):
            layers += [nn.Conv2d(ch_in, ch_out, 4, stride=2, padding=1), ACTIVATIONS[activation]()]
        self.convs = nn.Sequential(*layers)
        hs, ws = _stage_sizes(h, len(hidden)), _stage_sizes(w, len(hidden))
        if min(hs[-1], ws[-1]) < 1:
            raise ValueError(f"{len(hidden)} conv stages are too many for {h}x{w} images")
        self.head = nn.Linear(hidden[-1] * hs[-1] * ws[-1], n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(x).flatten(1))


class ConvDecoder(nn.Module):
    """(B, latent_dim) -> (B, C, H, W) image parameters, mirroring :class:`ConvEncoder`."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        hidden: tuple[int, ...],
        latent_dim: int,
        activation: str,
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.hs, self.ws = _stage_sizes(h, len(hidden)), _stage_sizes(w, len(hidden))
        channels = list(reversed(hidden))  # (deepest, ..., first)
        self.start_shape = (channels[0], self.hs[-1], self.ws[-1])
        self.fc = nn.Linear(latent_dim, math.prod(self.start_shape))
        self.act = ACTIVATIONS[activation]()
        outs = [*channels[1:], c]
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(ch_in, ch_out, 4, stride=2, padding=1)
            for ch_in, ch_out in zip(channels, outs, strict=True)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.act(self.fc(z)).view(-1, *self.start_shape)  # (B, C_deep, h, w)
        n = len(self.deconvs)
        for i, deconv in enumerate(self.deconvs):
            target = (self.hs[n - 1 - i], self.ws[n - 1 - i])
            x = deconv(x, output_size=target)
            if i < n - 1:
                x = self.act(x)
        return x
