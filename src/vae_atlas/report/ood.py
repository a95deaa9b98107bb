"""Out-of-distribution sets for the anomaly figure: a dataset name (``shapes``, ``digits``,
``mnist``, ``fashion-mnist``), ``mnist:FOLDER`` / ``fashion-mnist:FOLDER`` for IDX files in a
given folder, an image folder, or a user's :class:`ImageSet`/:class:`Dataset`, brought to the
model's image shape."""

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
        images = _load_named(str(spec), image_shape, data_dir).test
        prefix, colon, _ = str(spec).partition(":")
        name = prefix if colon and prefix in IDX_SETS else str(spec)
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


IDX_SETS = ("mnist", "fashion-mnist")


def _load_named(spec: str, image_shape: tuple[int, int, int], data_dir: str | None) -> Dataset:
    name, colon, given = spec.partition(":")
    if name in IDX_SETS and colon:
        return _load_idx(name, given, given)
    if name in IDX_SETS:
        return _load_idx(name, _sibling_dir(name, data_dir), None)
    if spec in DATASETS and spec != "folder":
        size = 32 if max(image_shape[1:]) <= 32 else 64
        extra = {"image_size": size, "n_samples": 2 * MAX_OOD} if spec == "shapes" else {}
        return load_dataset(DataConfig(name=spec, **extra))
    if Path(spec).is_dir():
        channels = 1 if image_shape[0] == 1 else 3
        return load_dataset(
            DataConfig(
                name="folder", data_dir=spec, channels=channels, image_size=max(image_shape[1:])
            )
        )
    raise DataError(
        f"--ood {spec!r}: not a dataset name ({', '.join(d for d in DATASETS if d != 'folder')}), "
        "NAME:FOLDER for mnist or fashion-mnist, or an image folder"
    )


def _load_idx(name: str, folder: str | None, given: str | None) -> Dataset:
    """An IDX dataset for ``--ood``; a missing or damaged copy gets advice in ``report``'s own
    flags (the loader's own message names ``train``'s)."""
    try:
        return load_dataset(DataConfig(name=name, data_dir=folder or None))
    except DataError as exc:
        first = str(exc).splitlines()[0].removeprefix(f"{name}: ").rstrip(":") + "."
        where = f"--ood {name}:{given}" if given else f"--ood {name}"
        raise DataError(
            f"{where}: {first} Pass --ood {name}:FOLDER with FOLDER the folder holding its four "
            f"IDX files (.gz as published), or put them in a {name}/ folder beside the run's "
            f"data folder or under $VAE_ATLAS_DATA."
        ) from None
