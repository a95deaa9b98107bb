"""Datasets behind one interface: :func:`load_dataset` turns a :class:`DataConfig` into a
:class:`Dataset` (uint8 images N×C×H×W, labels, class names, optional factors, train, validation
and test splits).
"""

from __future__ import annotations

from collections.abc import Callable

from vae_atlas.config import DataConfig
from vae_atlas.data.attributes import AttributeTable, read_attribute_table
from vae_atlas.data.celeba import load_celeba
from vae_atlas.data.dataset import (
    DataError,
    Dataset,
    ImageSet,
    binarize_images,
    split_train_test,
    split_validation,
    validation_size,
)
from vae_atlas.data.digits import load_digits
from vae_atlas.data.folder import load_folder
from vae_atlas.data.idx import read_idx
from vae_atlas.data.mnist import load_idx_dataset, resolve_data_dir
from vae_atlas.data.shapes import load_shapes
from vae_atlas.data.store import load_store
from vae_atlas.data.store_writer import write_store

__all__ = [
    "AttributeTable",
    "Dataset",
    "DataError",
    "ImageSet",
    "binarize_images",
    "load_celeba",
    "load_dataset",
    "load_digits",
    "load_folder",
    "load_idx_dataset",
    "load_shapes",
    "load_store",
    "read_attribute_table",
    "read_idx",
    "resolve_data_dir",
    "split_train_test",
    "split_validation",
    "validation_size",
    "write_store",
]


def _digits(cfg: DataConfig) -> Dataset:
    return load_digits(test_fraction=cfg.test_fraction, seed=cfg.seed)


def _idx(cfg: DataConfig) -> Dataset:
    return load_idx_dataset(
        cfg.name,
        data_dir=cfg.data_dir,
        verify=cfg.verify,
        download=cfg.download,
        base_url=cfg.base_url,
    )


def _shapes(cfg: DataConfig) -> Dataset:
    return load_shapes(
        image_size=cfg.image_size or 64,
        n_samples=cfg.n_samples or 20_000,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
    )


def _folder(cfg: DataConfig) -> Dataset:
    assert cfg.data_dir is not None  # DataConfig validates this
    return load_folder(
        cfg.data_dir,
        image_size=cfg.image_size or 64,
        channels=cfg.channels or 3,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
        attributes=cfg.attributes,
        attributes_sha256=cfg.attributes_sha256 if cfg.verify else None,
    )


def _celeba(cfg: DataConfig) -> Dataset:
    return load_celeba(
        resolve_data_dir(cfg.data_dir, "celeba"),
        image_size=cfg.image_size or 64,
        verify=cfg.verify,
        cache_dir=resolve_data_dir(None, "cache"),
    )


def _store(cfg: DataConfig) -> Dataset:
    assert cfg.data_dir is not None  # DataConfig validates this
    return load_store(cfg.data_dir, verify=cfg.verify, val_size=cfg.val_size)


_LOADERS: dict[str, Callable[[DataConfig], Dataset]] = {
    "digits": _digits,
    "mnist": _idx,
    "fashion-mnist": _idx,
    "shapes": _shapes,
    "folder": _folder,
    "store": _store,
    "celeba": _celeba,
}


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load the dataset ``cfg`` describes, with its validation split carved from train; raises
    :class:`DataError` naming file and problem."""
    return split_validation(_LOADERS[cfg.name](cfg), val_size=cfg.val_size, seed=cfg.seed)
