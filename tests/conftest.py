"""Shared fixtures: tiny synthetic data and the location of the real MNIST files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import settings

from vae_atlas.data import Dataset, ImageSet

# Fuzzing is reproducible: the same examples on every run and machine (seeded from each test's
# name), and no example database that would make one checkout's run differ from another's.
settings.register_profile("reproducible", derandomize=True, database=None)
settings.load_profile("reproducible")

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "datasets" / "mnist"


@pytest.fixture
def mnist_dir() -> Path:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


def make_blobs_dataset(n: int = 256, size: int = 8, seed: int = 0, classes: int = 4) -> Dataset:
    """A tiny labelled image dataset: each class is a bright square in its own quadrant."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=g)
    images = torch.randint(0, 40, (n, 1, size, size), generator=g, dtype=torch.uint8)
    half = size // 2
    for c in range(classes):
        r, q = divmod(c, 2)
        sel = labels == c
        images[sel, :, r * half : (r + 1) * half, q * half : (q + 1) * half] = 230
    cut = n * 3 // 4
    return Dataset(
        name="blobs",
        train=ImageSet(images[:cut], labels[:cut]),
        test=ImageSet(images[cut:], labels[cut:]),
        class_names=tuple(str(c) for c in range(classes)),
    )


@pytest.fixture
def blobs() -> Dataset:
    return make_blobs_dataset()
