"""The one dataset interface every loader returns.

Images are kept as a uint8 tensor of shape (N, C, H, W); models see them as float32 in [0, 1]
through :meth:`ImageSet.float_images`. Labels are int64 (N,) or ``None``; ground-truth generative
factors, where a dataset knows them (``shapes``), are float32 (N, n_factors); attributes, where
the images come with a table of them (CelebA, ``--attributes``), are float32 (N, n_attributes),
binary ones as 0/1.

A validation split, where asked for, is carved out of train (:func:`split_validation`), so train,
validation and test never share an image: recipes and early stopping are chosen on validation,
and the test split is kept for final numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import torch

from vae_atlas.seeds import derive_seed


class DataError(ValueError):
    """A dataset file is missing, corrupt or does not match what was expected.

    The message always names the file (or directory) and the problem.
    """


# rows a gather from a memory-mapped split copies before handing the pages back
_GATHER_ROWS = 256


def pixels_as_float(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 as float32 v / 255 (correctly rounded; ``v * (1 / 255)`` is one ulp
    off for 126 of the 256 levels); a float tensor is taken to hold [0, 1] values already."""
    if pixels.dtype != torch.uint8:
        return pixels
    return pixels.to(torch.float32).div_(255.0)


def binarize_images(images: ImageSet | torch.Tensor, seed: int) -> torch.Tensor:
    """One fixed stochastic binarisation x ~ Bernoulli(v / 255) of a whole set (Burda et al.
    2016's protocol for a Bernoulli decoder), float32 (N, C, H, W) on the CPU.

    The training loop's held-out sets and ``evaluate`` both come from here: one draw over the
    whole set from a CPU generator seeded ``seed``, so the same seed gives the same bytes, and a
    subset of the result holds exactly the binary images the whole set's scores used.
    """
    raw = images.images if isinstance(images, ImageSet) else images
    x = pixels_as_float(raw.cpu())
    return torch.bernoulli(x, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class ImageSet:
    """One split: images (N, C, H, W) uint8, optional labels (N,), factors (N, F),
    attributes (N, A) and names (N,): where each image came from (an image folder's relative
    paths, CelebA's file names), so a user can find an image they know by its file.

    ``release_rows(start, stop)``, set for a memory-mapped split (:mod:`vae_atlas.data.store`),
    lets a reader that is done with rows give their memory back; :meth:`chunks` calls it.
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    factors: torch.Tensor | None = None
    attributes: torch.Tensor | None = None
    names: tuple[str, ...] | None = None
    release_rows: Callable[[int, int], None] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DataError(
                f"images must be a uint8 tensor (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        n = self.images.shape[0]
        named = (
            ("labels", self.labels),
            ("factors", self.factors),
            ("attributes", self.attributes),
        )
        for name, value in named:
            if value is not None and value.shape[0] != n:
                raise DataError(f"{name} has {value.shape[0]} rows but there are {n} images")
        if self.names is not None and len(self.names) != n:
            raise DataError(f"names has {len(self.names)} entries but there are {n} images")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def float_images(self) -> torch.Tensor:
        """Images as float32 in [0, 1], shape (N, C, H, W)."""
        return pixels_as_float(self.images)

    def chunks(self, size: int) -> Iterator[torch.Tensor]:
        """The uint8 images in consecutive chunks of ``size`` rows (B, C, H, W); a mapped
        split's rows are released once the caller asks for the next chunk, so streaming through
        it keeps memory bounded."""
        n = len(self)
        for start in range(0, n, size):
            stop = min(start + size, n)
            yield self.images[start:stop]
            if self.release_rows is not None:
                self.release_rows(start, stop)

    def subset(self, index: torch.Tensor | slice) -> ImageSet:
        """The rows ``index`` selects: a view for a slice (a mapped split's view keeps releasing
        its rows), a copy otherwise (from a mapped split in pieces whose pages are handed back:
        the kernel maps the neighbours of each row read too, up to the whole file)."""
        release = None
        if self.release_rows is not None and isinstance(index, slice):
            rows = range(len(self))[index]
            if rows.step == 1:
                release = functools.partial(_release_shifted, self.release_rows, rows.start)
        mapped_gather = self.release_rows is not None and not isinstance(index, slice)
        return ImageSet(
            images=self._gather(index) if mapped_gather else self.images[index],
            labels=None if self.labels is None else self.labels[index],
            factors=None if self.factors is None else self.factors[index],
            attributes=None if self.attributes is None else self.attributes[index],
            names=None if self.names is None else _pick(self.names, index),
            release_rows=release,
        )

    def _gather(self, index: torch.Tensor) -> torch.Tensor:
        """Rows ``index`` of a mapped split, copied a few hundred at a time, each piece's pages
        handed back before the next, so the copy is all that stays in memory."""
        assert self.release_rows is not None
        index = torch.as_tensor(index)
        if index.dtype == torch.bool:
            index = index.nonzero().squeeze(1)
        out = torch.empty((len(index), *self.images.shape[1:]), dtype=self.images.dtype)
        for start in range(0, len(index), _GATHER_ROWS):
            part = index[start : start + _GATHER_ROWS]
            torch.index_select(self.images, 0, part, out=out[start : start + len(part)])
            self.release_rows(int(part.min()), int(part.max()) + 1)
        return out


def _pick(names: tuple[str, ...], index: torch.Tensor | slice) -> tuple[str, ...]:
    if isinstance(index, slice):
        return names[index]
    index = torch.as_tensor(index)
    if index.dtype == torch.bool:
        index = index.nonzero().squeeze(1)
    return tuple(names[int(i)] for i in index.reshape(-1))


def _release_shifted(
    release: Callable[[int, int], None], offset: int, start: int, stop: int
) -> None:
    release(offset + start, offset + stop)


@dataclass(frozen=True)
class Dataset:
    """A named dataset with a train/test split, an optional validation split carved from train,
    and optional class, factor and attribute names."""

    name: str
    train: ImageSet
    test: ImageSet
    class_names: tuple[str, ...] | None = None
    factor_names: tuple[str, ...] | None = None
    val: ImageSet | None = None
    attribute_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.train.images.shape[1:] != self.test.images.shape[1:]:
            raise DataError(
                f"{self.name}: train images {tuple(self.train.images.shape[1:])} and test images "
                f"{tuple(self.test.images.shape[1:])} differ in shape"
            )
        if self.val is not None and self.val.images.shape[1:] != self.train.images.shape[1:]:
            raise DataError(f"{self.name}: validation images differ in shape from train images")
        for split in (self.train, self.val, self.test):
            has = split is not None and split.attributes is not None
            if split is not None and has != (self.attribute_names is not None):
                raise DataError(f"{self.name}: attributes need attribute_names on every split")
            if has and split.attributes.shape[1] != len(self.attribute_names):
                raise DataError(
                    f"{self.name}: {split.attributes.shape[1]} attribute columns but "
                    f"{len(self.attribute_names)} attribute names"
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
    attributes: torch.Tensor | None = None,
    names: tuple[str, ...] | None = None,
) -> tuple[ImageSet, ImageSet]:
    """Shuffle deterministically with ``seed`` and cut off the last ``test_fraction`` as test."""
    n = images.shape[0]
    if n < 2:
        raise DataError(f"need at least 2 images to split into train and test, got {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    whole = ImageSet(images, labels, factors, attributes, names)
    return whole.subset(order[n_test:]), whole.subset(order[:n_test])


# The customary MNIST validation split (55,000 / 5,000); other datasets hold out a fraction.
IDX_VAL_SIZE = 5000
VAL_FRACTION = 0.1
MIN_VAL_SIZE = 10


def validation_size(name: str, n_train: int, val_size: int | None) -> int:
    """How many of ``n_train`` training images a split of ``val_size`` holds out.

    ``None`` is the dataset's default: 5,000 for MNIST and Fashion-MNIST (of their 60,000),
    otherwise 10 % of train but at least 10 images, and never more than half of train.
    """
    if val_size is None:
        if name in ("mnist", "fashion-mnist") and n_train > 2 * IDX_VAL_SIZE:
            return IDX_VAL_SIZE
        return min(max(round(VAL_FRACTION * n_train), MIN_VAL_SIZE), n_train // 2)
    if val_size >= n_train:
        raise DataError(
            f"data.val_size={val_size} must be smaller than the {n_train} training images of {name}"
        )
    return val_size


def split_validation(data: Dataset, *, val_size: int | None, seed: int) -> Dataset:
    """``data`` with a seeded random ``val_size`` images moved from train into ``val``.

    A dataset that already has its validation split (CelebA's official one) is returned as it
    is, provided ``val_size`` is left at ``None`` or is that split's size.
    A dataset that already has its validation split is returned as it is, provided its size is
    the one asked for or ``val_size`` is None (so loading and training may both call this, and a
    store keeps the split it was prepared with).
    """
    if data.val is not None and val_size is None:
        return data
    if data.val is not None:
        n_all = len(data.train) + len(data.val)
        expected = validation_size(data.name, n_all, val_size)
        if len(data.val) != expected:
            raise DataError(
                f"{data.name}: the dataset's validation split has {len(data.val)} images but "
                f"data.val_size asks for {expected}"
            )
        return data
    n_train = len(data.train)
    n_val = validation_size(data.name, n_train, val_size)
    if n_val == 0:
        return data
    # its own stream, apart from any train/test shuffle drawn with ``seed`` itself
    gen = torch.Generator().manual_seed(derive_seed(seed, "validation-split"))
    order = torch.randperm(n_train, generator=gen)
    return replace(
        data,
        train=data.train.subset(order[n_val:].sort().values),
        val=data.train.subset(order[:n_val].sort().values),
    )
