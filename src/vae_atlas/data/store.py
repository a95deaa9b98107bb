"""An on-disk image store: a dataset written once as memory-mapped uint8 arrays, read without
loading it into memory.

Layout of a store folder (written by :func:`write_store`, ``vae-atlas prepare``)::

    store.json            header: format version, image shape, class/factor/attribute names,
                          per split its size and files with their SHA-256, the source
    train-images.npy      uint8 (N, C, H, W), one file per split (train, val, test)
    train-labels.npy      int64 (N,), where the source has labels
    train-factors.npy     float32 (N, F), where the source knows its generative factors

:func:`load_store` maps each images file (``mmap``, copy-on-write so the tensors are writable
without ever touching the file) and checks it against the header first: the ``.npy`` header's
shape and dtype, the file's length, and with ``verify`` the SHA-256. Each problem is one
:class:`DataError` naming the file. A mapped split can hand back the pages a streaming reader is
done with (:attr:`ImageSet.release_rows`), so encoding a split larger than memory stays bounded.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vae_atlas.data.dataset import DataError, Dataset, ImageSet

HEADER = "store.json"
KIND = "vae-atlas-store"
FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
# what each array of a split holds: its dtype and its shape after the row count
_ARRAYS = {"images": np.uint8, "labels": np.int64, "factors": np.float32}
_HASH_CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 4 MiB chunks (never the whole file at once)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoreHeader:
    """The parsed ``store.json``: image shape, names, and per split its size and files."""

    name: str
    image_shape: tuple[int, int, int]
    splits: dict[str, dict[str, Any]]
    class_names: tuple[str, ...] | None
    factor_names: tuple[str, ...] | None
    source: str

    def split_size(self, split: str) -> int:
        return int(self.splits[split]["n"]) if split in self.splits else 0


def read_header(store: Path) -> StoreHeader:
    """Parse and check ``STORE/store.json``; a :class:`DataError` names the file otherwise."""
    path = Path(store) / HEADER
    if not path.is_file():
        hint = "" if Path(store).is_dir() else " (no such folder)"
        raise DataError(
            f"{path}: missing{hint}; is {store} an image store? make one with vae-atlas prepare"
        )
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: unreadable store header ({exc})") from None
    if not isinstance(head, dict) or head.get("kind") != KIND:
        raise DataError(f"{path}: not a vae-atlas image store header (kind != {KIND!r})")
    version = head.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise DataError(f"{path}: format_version={version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise DataError(
            f"{path}: store format version {version} is newer than this vae-atlas reads "
            f"({FORMAT_VERSION}); upgrade vae-atlas or prepare the store again"
        )
    try:
        shape = tuple(int(s) for s in head["image_shape"])
        splits = {s: head["splits"][s] for s in SPLITS if s in head["splits"]}
        for split, entry in splits.items():
            if int(entry["n"]) < 1 or "images" not in entry["files"]:
                raise ValueError(f"split {split!r} needs n >= 1 and an images file")
        if len(shape) != 3 or min(shape) < 1 or "train" not in splits or "test" not in splits:
            raise ValueError("needs image_shape [C, H, W] and train and test splits")
        names = {k: head.get(k) for k in ("class_names", "factor_names")}
        return StoreHeader(
            name=str(head["name"]),
            image_shape=shape,  # type: ignore[arg-type]
            splits=splits,
            class_names=None if names["class_names"] is None else tuple(names["class_names"]),
            factor_names=None if names["factor_names"] is None else tuple(names["factor_names"]),
            source=str(head.get("source", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: malformed store header ({exc})") from None


def _npy_layout(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) from a ``.npy`` file's own header."""
    try:
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read(f)
            offset = f.tell()
    except FileNotFoundError:
        raise DataError(f"{path}: missing (listed in {HEADER})") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc})") from None
    if fortran:
        raise DataError(f"{path}: Fortran-ordered arrays are not supported")
    return tuple(shape), dtype, offset


def _checked_file(
    store: Path, entry: dict[str, Any], kind: str, shape: tuple[int, ...], verify: bool
) -> tuple[Path, int]:
    """The path and data offset of one array file, after checking it against the header."""
    path = Path(store) / str(entry["file"])
    found, dtype, offset = _npy_layout(path)
    want = np.dtype(_ARRAYS[kind])
    if found != shape:
        raise DataError(
            f"{path}: shape {found} but {HEADER} says {shape} (header and data disagree)"
        )
    if dtype != want:
        raise DataError(f"{path}: dtype {dtype} but a store's {kind} are {want}")
    expected = offset + int(np.prod(found)) * want.itemsize
    size = path.stat().st_size
    if size != expected:
        what = "truncated" if size < expected else "longer than its header says"
        raise DataError(f"{path}: {what} ({size} bytes, expected {expected} for shape {found})")
    if verify and file_sha256(path) != entry.get("sha256"):
        raise DataError(
            f"{path}: SHA-256 differs from {HEADER} (the file changed since prepare); "
            "prepare the store again, or --no-verify to use it as it is"
        )
    return path, offset


class _MappedRows:
    """Rows of a mapped images file; ``release(start, stop)`` drops their pages from this
    process (they are read from the file again if touched later)."""

    def __init__(self, path: Path, offset: int, shape: tuple[int, ...]) -> None:
        with open(path, "rb") as f:
            self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        self.offset, self.row_bytes = offset, int(np.prod(shape[1:]))
        count = shape[0] * self.row_bytes
        array = np.frombuffer(self.map, dtype=np.uint8, count=count, offset=offset)
        self.tensor = torch.from_numpy(array.reshape(shape))

    def release(self, start: int, stop: int) -> None:
        begin = self.offset + start * self.row_bytes
        begin -= begin % mmap.PAGESIZE
        end = self.offset + stop * self.row_bytes
        if end > begin:
            self.map.madvise(mmap.MADV_DONTNEED, begin, end - begin)


def _load_split(store: Path, head: StoreHeader, split: str, verify: bool) -> ImageSet:
    entry = head.splits[split]
    n, files = int(entry["n"]), entry["files"]
    path, offset = _checked_file(store, files["images"], "images", (n, *head.image_shape), verify)
    rows = _MappedRows(path, offset, (n, *head.image_shape))
    extra: dict[str, torch.Tensor | None] = {"labels": None, "factors": None}
    for kind in extra:
        if files.get(kind) is not None:
            shape = (n,) if kind == "labels" else (n, len(head.factor_names or ()))
            small, _ = _checked_file(store, files[kind], kind, shape, verify)
            extra[kind] = torch.from_numpy(np.load(small))
    return ImageSet(rows.tensor, extra["labels"], extra["factors"], release_rows=rows.release)


def load_store(store: str | Path, *, verify: bool = True, val_size: int | None = None) -> Dataset:
    """The store at ``store`` as a :class:`Dataset` whose images are memory-mapped.

    ``val_size`` None takes the validation split the store was prepared with; any other value
    must equal it (a store's splits are fixed when it is written).
    """
    store = Path(store)
    head = read_header(store)
    stored_val = head.split_size("val")
    if val_size is not None and val_size != stored_val:
        raise DataError(
            f"{store}: prepared with a validation split of {stored_val} images, but "
            f"--val-size {val_size} was asked for; leave --val-size out or prepare the store "
            f"again with --val-size {val_size}"
        )
    if val_size is None and stored_val == 0:
        raise DataError(
            f"{store}: prepared without a validation split; pass --val-size 0 to use it"
        )
    splits = {s: _load_split(store, head, s, verify) for s in head.splits}
    return Dataset(
        name=head.name,
        train=splits["train"],
        test=splits["test"],
        val=splits.get("val"),
        class_names=head.class_names,
        factor_names=head.factor_names,
    )


def store_disk_bytes(store: str | Path) -> int:
    """Total size of a store's files in bytes."""
    return sum(p.stat().st_size for p in Path(store).iterdir() if p.is_file())


def header_dict(data: Dataset, files: dict[str, dict[str, Any]], source: str) -> dict[str, Any]:
    """The JSON header of a store holding ``data``, given its split files (see
    :func:`vae_atlas.data.store_writer.write_store`)."""
    attributes = getattr(data, "attribute_names", None)
    return {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "name": data.name,
        "source": source,
        "image_shape": list(data.image_shape),
        "dtype": "uint8",
        "class_names": None if data.class_names is None else list(data.class_names),
        "factor_names": None if data.factor_names is None else list(data.factor_names),
        "attribute_names": None if attributes is None else list(attributes),
        "splits": files,
    }


def check_new_store(out: Path) -> None:
    """Refuse to write a store over anything: ``out`` must not exist or be an empty folder."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out}: already exists and is not empty; choose a new --out folder")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
