"""Out-of-distribution sets for the anomaly figure: a dataset name (``shapes``, ``digits``,
``mnist``, ``fashion-mnist``), an image folder, or a user's :class:`ImageSet`/:class:`Dataset`,
brought to the model's image shape."""

from __future__ import annotations

from pathlib import Path

import torch

from vae_atlas.config import DATASETS, DataConfig
from vae_atlas.data import DataError, Dataset, ImageSet, load_dataset
from vae_atlas.report.health_figures import resize_to

MAX_OOD = 2000
"""At most this many out-of-distribution images are scored (a seeded subsample)."""

OodSpec = str | Path | Dataset | ImageSet


def load_ood(
    spec: OodSpec, image_shape: tuple[int, int, int], *, data_dir: str | None = None
) -> tuple[str, ImageSet]:
    """Resolve ``spec`` to (name, test images at ``image_shape``), at most ``MAX_OOD`` of them."""
    if isinstance(spec, Dataset):
        name, images = spec.name, spec.test
    elif isinstance(spec, ImageSet):
        name, images = "out-of-distribution", spec
    else:
        name = str(spec)
        images = _load_named(name, image_shape, data_dir).test
    if len(images) > MAX_OOD:
        keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:MAX_OOD]
        images = images.subset(keep.sort().values)
    return name, resize_to(images, image_shape)


def _sibling_dir(name: str, data_dir: str | None) -> str | None:
    """Where an IDX dataset ``name`` probably lives, given the run's own data folder: the same
    folder if it is named after ``name``, else a sibling ``<parent>/<name>``, else the default."""
    if data_dir is None:
        return None
    folder = Path(data_dir)
    if folder.name == name:
        return str(folder)
    sibling = folder.parent / name
    return str(sibling) if sibling.is_dir() else None


def _load_named(name: str, image_shape: tuple[int, int, int], data_dir: str | None) -> Dataset:
    if name in DATASETS and name != "folder":
        size = 32 if max(image_shape[1:]) <= 32 else 64
        extra = {"image_size": size, "n_samples": 2 * MAX_OOD} if name == "shapes" else {}
        folder = _sibling_dir(name, data_dir) if name in ("mnist", "fashion-mnist") else None
        return load_dataset(DataConfig(name=name, data_dir=folder, **extra))
    if Path(name).is_dir():
        channels = 1 if image_shape[0] == 1 else 3
        return load_dataset(
            DataConfig(
                name="folder", data_dir=name, channels=channels, image_size=max(image_shape[1:])
            )
        )
    raise DataError(
        f"--ood {name!r}: not a dataset name ({', '.join(d for d in DATASETS if d != 'folder')}) "
        "or an image folder"
    )
