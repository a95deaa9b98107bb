"""The MNIST and Fashion-MNIST datasets: locating, verifying and downloading their IDX files.

MNIST: LeCun, Bottou, Bengio & Haffner (1998), "Gradient-based learning applied to document
recognition". Fashion-MNIST: Xiao, Rasul & Vollgraf (2017), arXiv:1708.07747.

An IDX file is two zero bytes, a type code (0x08 = uint8, the only one these datasets use), the
number of dimensions, one big-endian uint32 per dimension, then the data in C order. Files may be
gzip-compressed; gzip is recognised by its magic bytes, never by the file name.

Checksums. The ``.gz`` bytes of MNIST differ between mirrors, so MNIST is verified by the SHA-256 of
the *decompressed* files. For Fashion-MNIST the only values we could confirm are Zalando's published
MD5s of the ``.gz`` files (the ones torchvision uses), so Fashion-MNIST is verified against those:
this needs the ``.gz`` files, and an uncompressed-only copy loads only with ``verify=False``. The
checksums identify the published files; they are not meant to resist a deliberate forgery.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vae_atlas.data.dataset import DataError, Dataset, ImageSet
from vae_atlas.data.idx import CHUNK_BYTES, DEFAULT_MAX_BYTES, GZIP_MAGIC, read_idx_with_header

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}  # fmt: skip

DEFAULT_BASE_URLS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
    ),
}


@dataclass(frozen=True)
class FileChecksum:
    """A published digest: of the decompressed IDX bytes, or (``of_gzip``) of the ``.gz`` file.

    ``data_bytes`` is the size of the published file's data block: a header declaring any other
    size cannot match, so it is refused before decompression (a small gzip file can declare
    gigabytes of zeros).
    """

    algorithm: str
    digest: str
    of_gzip: bool = False
    data_bytes: int | None = None


_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FASHION_GZ_MD5 = {  # github.com/zalandoresearch/fashion-mnist README
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}
_DATA_BYTES = {  # both datasets: 60,000 + 10,000 images of 28 x 28 bytes, one byte per label
    "train-images-idx3-ubyte": 60_000 * 28 * 28,
    "train-labels-idx1-ubyte": 60_000,
    "t10k-images-idx3-ubyte": 10_000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 10_000,
}
CHECKSUMS: dict[str, dict[str, FileChecksum]] = {
    "mnist": {
        k: FileChecksum("sha256", v, data_bytes=_DATA_BYTES[k]) for k, v in _MNIST_SHA256.items()
    },
    "fashion-mnist": {
        k: FileChecksum("md5", v, of_gzip=True, data_bytes=_DATA_BYTES[k])
        for k, v in _FASHION_GZ_MD5.items()
    },
}


def resolve_data_dir(data_dir: str | os.PathLike[str] | None, name: str) -> Path:
    """The folder that holds (or will hold) dataset ``name``'s files.

    An explicit ``data_dir`` holds the files directly. Otherwise ``$VAE_ATLAS_DATA`` and then the
    user cache dir (``$XDG_CACHE_HOME`` or ``~/.cache``, plus ``vae-atlas``) are *roots* shared by
    all datasets, so ``/<name>`` is appended to them. This is the only function in the data
    package that reads the environment; the CLI calls it and passes the result on.
    """
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get("VAE_ATLAS_DATA")
    if env:
        return Path(env).expanduser() / name
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    cache = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return cache / "vae-atlas" / name


def load_idx_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None,
    verify: bool = True,
    download: bool = False,
    base_url: str | None = None,
) -> Dataset:
    """Load MNIST or Fashion-MNIST: uint8 images (N, 1, 28, 28) and int64 labels 0-9.

    Parameters
    ----------
    name
        ``"mnist"`` or ``"fashion-mnist"``.
    data_dir
        Folder holding the four IDX files (each raw or ``.gz``; ``.gz`` is preferred when both
        exist). ``None`` resolves it with :func:`resolve_data_dir`, which reads the environment.
    verify
        Check each file against the published checksum (see the module docstring).
    download
        Fetch missing files from ``base_url`` (default: a public mirror) into ``data_dir``.
    base_url
        Mirror prefix; ``base_url + "<file>.gz"`` is fetched. ``file://`` URLs work.

    Returns
    -------
    Dataset
        ``train`` is the 60k training file, ``test`` the t10k file.
    """
    if name not in CLASS_NAMES:
        raise DataError(f"unknown IDX dataset {name!r}; expected one of {', '.join(CLASS_NAMES)}")
    root = resolve_data_dir(data_dir, name)
    url = base_url or DEFAULT_BASE_URLS[name]
    missing = [stem for stem in FILES if _find(root, stem) is None]
    if missing and not download:
        raise DataError(_missing_message(name, root, missing, url))
    for stem in missing:
        _download(name, stem, root, url, verify)
    paths = {stem: _find(root, stem) or root / f"{stem}.gz" for stem in FILES}
    arrays = {stem: _load_checked(name, stem, paths[stem], verify) for stem in FILES}
    splits = [
        _image_set(arrays, paths, f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        for prefix in ("train", "t10k")
    ]
    return Dataset(name=name, train=splits[0], test=splits[1], class_names=CLASS_NAMES[name])


def _find(root: Path, stem: str) -> Path | None:
    for candidate in (root / f"{stem}.gz", root / stem):
        if candidate.is_file():
            return candidate
    return None


def _missing_message(name: str, root: Path, missing: list[str], url: str) -> str:
    where = f"{root}" + ("" if root.is_dir() else " (the folder does not exist)")
    lines = [f"{name}: {len(missing)} of {len(FILES)} files missing from {where}:"]
    lines += [f"  {root / stem}.gz  (or uncompressed: {root / stem})" for stem in missing]
    lines.append(
        f"Place them there, pass --download to fetch them from {url}, or point --data-dir "
        f"(a folder holding the files) or VAE_ATLAS_DATA (a folder with a {name}/ subfolder) "
        "at an existing copy."
    )
    return "\n".join(lines)


def _load_checked(name: str, stem: str, path: Path, verify: bool) -> np.ndarray:
    """Read one file; with ``verify``, cheap checks (the .gz digest, the declared size) come
    before decompressing, and the decompressed digest after."""
    if not verify:
        return read_idx_with_header(path, DEFAULT_MAX_BYTES)[1]
    expected = CHECKSUMS[name][stem]
    if expected.of_gzip:
        _check_digest(name, path, expected, _gzip_digest(name, path, expected))
    header, data = read_idx_with_header(path, DEFAULT_MAX_BYTES, expect_bytes=expected.data_bytes)
    if not expected.of_gzip:
        digest = hashlib.new(expected.algorithm, usedforsecurity=False)
        digest.update(header)
        digest.update(data)
        _check_digest(name, path, expected, digest.hexdigest())
    return data


def _gzip_digest(name: str, path: Path, expected: FileChecksum) -> str:
    digest = hashlib.new(expected.algorithm, usedforsecurity=False)
    with path.open("rb") as handle:
        if handle.read(2) != GZIP_MAGIC:
            raise DataError(
                f"{path}: cannot verify an uncompressed file: the published {name} checksums "
                "are of the .gz files; place the .gz file there instead, or pass --no-verify "
                "(verify=False)"
            )
        handle.seek(0)
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_digest(name: str, path: Path, expected: FileChecksum, got: str) -> None:
    if got != expected.digest:
        what = "the .gz file" if expected.of_gzip else "the decompressed data"
        raise DataError(
            f"{path}: checksum mismatch: expected {expected.algorithm} {expected.digest} of "
            f"{what}, got {got}. If this is a deliberately modified variant of "
            f"{name}, pass --no-verify (verify=False)."
        )


def _image_set(
    arrays: dict[str, np.ndarray], paths: dict[str, Path], images_stem: str, labels_stem: str
) -> ImageSet:
    images, labels = arrays[images_stem], arrays[labels_stem]
    images_path, labels_path = paths[images_stem], paths[labels_stem]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected images (N, 28, 28), header declares {images.shape}"
        )
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected a 1-D label file, header declares {labels.shape}")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if len(images) == 0:
        raise DataError(f"{images_path}: holds no images")
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{labels_path}: label {labels[bad]} at index {bad} is outside 0..9")
    return ImageSet(
        images=torch.from_numpy(images).unsqueeze(1),  # (N, 1, 28, 28)
        labels=torch.from_numpy(labels.astype(np.int64)),
    )


def _download(name: str, stem: str, root: Path, base_url: str, verify: bool) -> None:
    """Fetch ``<stem>.gz`` into ``root`` atomically: nothing is left behind unless it checks out."""
    url = base_url + ("" if base_url.endswith("/") else "/") + f"{stem}.gz"
    dest = root / f"{stem}.gz"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=f".{dest.name}.", delete=False) as handle:
        tmp = Path(handle.name)
    try:
        _fetch(url, tmp, dest)
        try:
            _load_checked(name, stem, tmp, verify)
        except DataError as exc:
            # Name the destination, not the temporary file that is about to disappear.
            reason = str(exc).replace(str(tmp), str(dest))
            raise DataError(f"{url}: download unusable, discarded: {reason}") from None
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(url: str, tmp: Path, dest: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as handle:
            shutil.copyfileobj(response, handle, CHUNK_BYTES)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"{url}: download failed ({reason}); nothing written to {dest}") from None
