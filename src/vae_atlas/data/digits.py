"""scikit-learn's bundled 8x8 handwritten digits (1,797 images): the offline default dataset.

Pixel values 0..16 are rescaled to 0..255 so every dataset shares the uint8 convention.
"""

from __future__ import annotations

import torch

from vae_atlas.data.dataset import Dataset, split_train_test


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load the 8x8 digits as a 1x8x8 image dataset with labels 0-9."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    pixels = torch.from_numpy(bunch.images).to(torch.float32)  # (N, 8, 8), values 0..16
    images = (pixels * (255.0 / 16.0)).round_().clamp_(0, 255).to(torch.uint8).unsqueeze(1)
    labels = torch.from_numpy(bunch.target).to(torch.int64)
    train, test = split_train_test(images, labels, None, test_fraction=test_fraction, seed=seed)
    return Dataset(
        name="digits",
        train=train,
        test=test,
        class_names=tuple(str(d) for d in range(10)),
    )
