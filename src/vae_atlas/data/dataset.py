"""The one dataset interface every loader returns.

Images are kept as a uint8 tensor of shape (N, C, H, W); models see them as float32 in [0, 1]
through :meth:`ImageSet.float_images`. Labels are int64 (N,) or ``None``; ground-truth generative
factors, where a dataset knows them (``shapes``), are float32 (N, n_factors).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


class DataError(ValueError):
    """A dataset file is missing, corrupt or does not match what was expected.

    The message always names the file (or directory) and the problem.
    """


@dataclass(frozen=True)
class ImageSet:
    """One split: images (N, C, H, W) uint8, optional labels (N,) and factors (N, F)."""

    images: torch.Tensor
    labels: torch.Tensor | None = None
    factors: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DataError(
                f"images must be a uint8 tensor (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        n = self.images.shape[0]
        for name, value in (("labels", self.labels), ("factors", self.factors)):
            if value is not None and value.shape[0] != n:
                raise DataError(f"{name} has {value.shape[0]} rows but there are {n} images")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def float_images(self) -> torch.Tensor:
        """Images as float32 in [0, 1], shape (N, C, H, W)."""
        return self.images.to(torch.float32).div_(255.0)

    def subset(self, index: torch.Tensor | slice) -> ImageSet:
        return ImageSet(
            images=self.images[index],
            labels=None if self.labels is None else self.labels[index],
            factors=None if self.factors is None else self.factors[index],
        )


@dataclass(frozen=True)
class Dataset:
    """A named dataset with a train/test split and optional class and factor names."""

    name: str
    train: ImageSet
    test: ImageSet
    class_names: tuple[str, ...] | None = None
    factor_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.train.images.shape[1:] != self.test.images.shape[1:]:
            raise DataError(
                f"{self.name}: train images {tuple(self.train.images.shape[1:])} and test images "
                f"{tuple(self.test.images.shape[1:])} differ in shape"
            )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width)."""
        c, h, w = self.train.images.shape[1:]
        return int(c), int(h), int(w)


def split_train_test(
    images: torch.Tensor,
    labels: torch.Tensor | None,
    factors: torch.Tensor | None,
    *,
    test_fraction: float,
    seed: int,
) -> tuple[ImageSet, ImageSet]:
    """Shuffle deterministically with ``seed`` and cut off the last ``test_fraction`` as test."""
    n = images.shape[0]
    if n < 2:
        raise DataError(f"need at least 2 images to split into train and test, got {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    whole = ImageSet(images, labels, factors)
    return whole.subset(order[n_test:]), whole.subset(order[:n_test])
