"""CelebA, aligned and cropped (Liu, Luo, Wang & Tang 2015, "Deep Learning Face Attributes in
the Wild"): 202,599 face images of 178×218 with 40 binary attributes.

The folder holds what the release ships: the images as ``img_align_celeba/`` (also found one
level deeper, ``img_align_celeba/img_align_celeba/``, as some mirrors nest it) or as
``img_align_celeba.zip``, read without extracting; ``list_attr_celeba.txt`` (−1/1 per attribute,
stored as 0/1) and ``list_eval_partition.txt`` (0 train, 1 valid, 2 test: that partition is the
split, and "valid" is the validation split). The partition file, the attribute file and the
images must name the same images.

Checksums: the MD5s the authors published for ``img_align_celeba.zip``, ``list_attr_celeba.txt``
and ``list_eval_partition.txt`` (the values torchvision's CelebA loader also checks). An
extracted folder has no published checksum; its two text files are still checked.

Preprocessing follows the common CelebA VAE recipes: the centred 148×148 square (the face, less
background) resized to ``image_size`` with a Lanczos filter. The decoded images are cached
once per source and size as a uint8 ``.npy`` array in ``cache_dir`` (keyed by the files' names,
sizes and modification times), so the second load reads one file instead of 202,599 JPEGs.
"""

from __future__ import annotations

import hashlib
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vae_atlas.data.attributes import read_attribute_table
from vae_atlas.data.dataset import DataError, Dataset, ImageSet

ATTRIBUTES_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
IMAGES_ZIP = "img_align_celeba.zip"
IMAGES_DIR = "img_align_celeba"
PUBLISHED_MD5 = {
    IMAGES_ZIP: "00d2c5bc6d35e252742224ab0c1e8fcb",
    ATTRIBUTES_FILE: "75e246fa4810816ffd6ee81facbd244c",
    PARTITION_FILE: "d32c9cbf5e040fd4025c592c306e6668",
}
CROP = 148  # side of the centred square kept from each 178×218 image
_EXAMPLES = 3


def load_celeba(
    data_dir: str | os.PathLike[str],
    *,
    image_size: int = 64,
    verify: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Load aligned CelebA from ``data_dir``: uint8 (N, 3, S, S) images with their 40 attributes,
    split by the official partition (train, validation = "valid", test).

    Raises
    ------
    DataError
        Naming the file: missing, checksum mismatch (``verify=False`` for variants), malformed,
        or a partition that disagrees with the images or the attribute file.
    """
    root = Path(data_dir).expanduser()
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 4:
        raise DataError(f"celeba: image_size={image_size!r} must be an integer >= 4")
    if not root.is_dir():
        raise DataError(f"{root}: not a directory (expected the CelebA files there)")
    source = _image_source(root)
    texts = [root / ATTRIBUTES_FILE, root / PARTITION_FILE]
    for path in texts:
        if not path.is_file():
            raise DataError(
                f"{path}: missing (CelebA needs {ATTRIBUTES_FILE} and {PARTITION_FILE})"
            )
    if verify:
        for path in [*texts, *([source] if source.suffix == ".zip" else [])]:
            _check_md5(path)
    split_of = read_partition(root / PARTITION_FILE)
    table = read_attribute_table(root / ATTRIBUTES_FILE)
    names = sorted(split_of)
    _check_same(root / PARTITION_FILE, names, "the images", _image_names(source))
    _check_same(root / PARTITION_FILE, names, ATTRIBUTES_FILE, list(table.keys))
    images = _cached_images(source, names, image_size, cache_dir)  # (N, 3, S, S)
    row = {key: i for i, key in enumerate(table.keys)}
    attributes = torch.from_numpy(table.values[[row[n] for n in names]])  # (N, A)
    split = np.array([split_of[n] for n in names])

    def part(code: int) -> ImageSet:
        index = torch.from_numpy(np.flatnonzero(split == code))
        return ImageSet(
            images[index], attributes=attributes[index], names=tuple(names[i] for i in index)
        )

    return Dataset(
        name="celeba",
        train=part(0),
        val=part(1) if (split == 1).any() else None,
        test=part(2),
        attribute_names=table.names,
    )


def read_partition(path: Path) -> dict[str, int]:
    """``list_eval_partition.txt`` as image name -> 0 (train), 1 (valid) or 2 (test)."""
    out: dict[str, int] = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(f"{path}: line {n} is not 'NAME 0|1|2': {line.strip()!r}")
        if fields[0] in out:
            raise DataError(f"{path}: line {n} names {fields[0]} a second time")
        out[fields[0]] = int(fields[1])
    if not out or 0 not in out.values() or 2 not in out.values():
        raise DataError(f"{path}: needs images in both the train (0) and test (2) partitions")
    return out


def _image_source(root: Path) -> Path:
    for folder in (root / IMAGES_DIR / IMAGES_DIR, root / IMAGES_DIR):
        if folder.is_dir():
            return folder
    if (root / IMAGES_ZIP).is_file():
        return root / IMAGES_ZIP
    raise DataError(f"{root}: no {IMAGES_DIR}/ folder and no {IMAGES_ZIP}")


def _check_md5(path: Path) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    expected = PUBLISHED_MD5[path.name]
    if digest.hexdigest() != expected:
        raise DataError(
            f"{path}: checksum mismatch: expected the published md5 {expected}, got "
            f"{digest.hexdigest()}. If this is a deliberately modified variant of CelebA, "
            "pass --no-verify (verify=False)."
        )


def _zip_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Image name -> member name for the ``.jpg`` entries of the archive."""
    return {
        m.rsplit("/", 1)[-1]: m
        for m in archive.namelist()
        if m.lower().endswith(".jpg") and not m.rsplit("/", 1)[-1].startswith(".")
    }


def _image_names(source: Path) -> list[str]:
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive:
            return list(_zip_members(archive))
    return [p.name for p in source.iterdir() if p.suffix.lower() == ".jpg"]


def _check_same(where: Path, names: list[str], what: str, others: list[str]) -> None:
    """Refuse a partition file that does not name exactly the images in ``others``."""
    mine, theirs = set(names), set(others)
    if mine == theirs:
        return
    extra, absent = sorted(mine - theirs), sorted(theirs - mine)
    parts = []
    if extra:
        parts.append(
            f"{len(extra)} named images are not in {what} (e.g. {', '.join(extra[:_EXAMPLES])})"
        )
    if absent:
        parts.append(
            f"{len(absent)} of {what} are not named (e.g. {', '.join(absent[:_EXAMPLES])})"
        )
    raise DataError(f"{where} disagrees with {what}: {'; '.join(parts)}")


def _cached_images(
    source: Path, names: list[str], size: int, cache_dir: str | os.PathLike[str] | None
) -> torch.Tensor:
    """All ``names`` decoded to uint8 (N, 3, size, size), from the cache when it is there."""
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"celeba-{_fingerprint(source, names)}-{size}px.npy"
        if cache.is_file():
            try:
                return torch.from_numpy(np.load(cache))
            except (OSError, ValueError):
                cache.unlink(missing_ok=True)  # damaged: decode again below
    images = _decode_all(source, names, size)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}.npy")
        np.save(tmp, images)
        os.replace(tmp, cache)
    return torch.from_numpy(images)


def _fingerprint(source: Path, names: list[str]) -> str:
    stat = source.stat()
    digest = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    digest.update("\n".join(names).encode())
    return digest.hexdigest()[:16]


def _decode_all(source: Path, names: list[str], size: int) -> np.ndarray:
    out = np.empty((len(names), 3, size, size), dtype=np.uint8)  # (N, 3, S, S)
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive:
            members = _zip_members(archive)
            for i, name in enumerate(names):
                with archive.open(members[name]) as handle:
                    out[i] = crop_resize(handle, size, where=f"{source}:{members[name]}")
    else:
        for i, name in enumerate(names):
            out[i] = crop_resize(source / name, size, where=str(source / name))
    return out


def crop_resize(file: object, size: int, *, where: str) -> np.ndarray:
    """One CelebA image: the centred 148×148 square resized to ``size``; uint8 (3, size, size)."""
    try:
        with Image.open(file) as image:  # type: ignore[arg-type]
            width, height = image.size
            # decode JPEGs at a reduced scale that still leaves the crop at least ``size`` wide
            image.draft("RGB", (math.ceil(width * size / CROP), math.ceil(height * size / CROP)))
            image = image.convert("RGB")
            w, h = image.size
            side = min(w, h, CROP * w / width)
            left, top = (w - side) / 2, (h - side) / 2
            box = (left, top, left + side, top + side)
            square = image.resize((size, size), Image.Resampling.LANCZOS, box=box)
            return np.asarray(square).transpose(2, 0, 1)
    except Exception as exc:  # Pillow's decoders raise a zoo of types on malformed input
        raise DataError(f"{where}: not a readable image ({type(exc).__name__}: {exc})") from None
