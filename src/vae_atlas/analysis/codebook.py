"""What a VQ-VAE's discrete codes hold (van den Oord et al. 2017): which codes the data uses
(usage counts and perplexity), the code map of each image, each codebook entry decoded, and the
images whose code maps agree most.

A model is vector-quantised when it has ``codes(x) -> (B, h, w)`` indices, ``embed(codes) ->``
flattened grids for ``decode``, and a ``codebook`` with ``size`` entries
(:class:`vae_atlas.models.VQAutoEncoder`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.data import ImageSet
from vae_atlas.models.inference import eval_mode, model_device
from vae_atlas.models.vq import perplexity


def is_vector_quantised(model: nn.Module) -> bool:
    """Whether ``model`` encodes to discrete codes (see the module docstring)."""
    return all(callable(getattr(model, name, None)) for name in ("codes", "embed")) and hasattr(
        model, "codebook"
    )


@dataclass(frozen=True)
class CodeUsage:
    """The code maps ``codes`` (N, h, w) of N images, how often each of the K codes is used
    over all their cells ``counts`` (K,), and the usage's ``perplexity`` (exp entropy: K when
    every code is used equally, 1 when one code takes every cell)."""

    codes: np.ndarray
    counts: np.ndarray
    perplexity: float

    @property
    def used(self) -> int:
        """How many codes at least one cell uses."""
        return int((self.counts > 0).sum())


@torch.no_grad()
def code_usage(
    model: nn.Module, images: ImageSet | torch.Tensor, *, batch_size: int = 1024
) -> CodeUsage:
    """The code maps of ``images`` (an image set, or floats (N, C, H, W) in [0, 1]) and the
    usage of the codebook over them."""
    device = model_device(model)
    pixels = images.images if isinstance(images, ImageSet) else images
    scale = 1.0 / 255.0 if isinstance(images, ImageSet) else 1.0
    maps = []
    with eval_mode(model):
        for start in range(0, len(pixels), batch_size):
            x = pixels[start : start + batch_size].to(device=device, dtype=torch.float32)
            maps.append(model.codes(x * scale).cpu())
    codes = torch.cat(maps).numpy().astype(np.int64)  # (N, h, w)
    size = int(model.codebook.size)
    counts = np.bincount(codes.ravel(), minlength=size)
    return CodeUsage(codes, counts, perplexity(torch.as_tensor(counts)))


@torch.no_grad()
def decode_codes(model: nn.Module, codes: np.ndarray) -> np.ndarray:
    """Decoded images (B, C, H, W) in [0, 1] of code maps ``codes`` (B, h, w)."""
    device = model_device(model)
    with eval_mode(model):
        z = model.embed(torch.as_tensor(codes, dtype=torch.int64, device=device))
        return model.decode(z).float().cpu().numpy()


def tiled_codes(model: nn.Module, code_ids: np.ndarray) -> np.ndarray:
    """Each code of ``code_ids`` (M,) repeated over every cell of the grid, decoded: what one
    codebook entry draws on its own (M, C, H, W)."""
    h, w = model.grid
    maps = np.broadcast_to(
        np.asarray(code_ids, dtype=np.int64)[:, None, None], (len(code_ids), h, w)
    )
    return decode_codes(model, np.ascontiguousarray(maps))


def code_neighbours(
    codes: np.ndarray, queries: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each query index, the ``n`` other images whose code maps differ in the fewest cells
    (Hamming distance over the (h, w) grid; ties by index). Returns indices (Q, n) and their
    distances (Q, n)."""
    flat = codes.reshape(len(codes), -1)  # (N, h·w)
    index, dist = [], []
    for q in np.asarray(queries, dtype=np.int64):
        d = (flat != flat[q]).sum(1)
        d[q] = flat.shape[1] + 1  # never the query itself
        order = np.argsort(d, kind="stable")[:n]
        index.append(order)
        dist.append(d[order])
    return np.asarray(index), np.asarray(dist)
