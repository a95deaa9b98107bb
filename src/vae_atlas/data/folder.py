"""Any folder of images as a dataset: one class per subfolder, or unlabelled when flat.

Layout. If the folder has subfolders that contain images (at any depth), each such subfolder is
a class (sorted names give labels 0, 1, ...), like torchvision's ``ImageFolder``; images lying
directly next to those subfolders are then ignored with a warning. Otherwise the images directly
in the folder form an unlabelled dataset. Hidden files and folders (``.name``) and files with
other extensions are ignored. Symbolic links: a linked class folder is followed only when it
resolves to a folder inside the dataset folder (a link to ``/`` must not scan the disk), and
links to folders deeper down are never followed; a linked image *file* is read wherever it
points, like any file the user names; an image file that cannot be read is an error, never silently
skipped (``skip_bad=True`` skips it with a warning listing every such file).

Each image is decoded with Pillow and normalised to uint8 ``channels`` x S x S:

- the EXIF orientation is applied; of an animated GIF/WebP only the first frame is used;
- 16-bit greyscale (``I;16*``, ``I``) is scaled by 255/65535, not clipped at 255;
- transparency (``LA``, ``RGBA``, palette with transparency, ...) is composited over black, the
  background of every other dataset here;
- 1-bit, palette, CMYK and other modes go through Pillow's conversion to ``L`` or ``RGB``;
- the centred square of side min(width, height) is resized to S with a Lanczos filter
  (``reducing_gap`` makes large downscales fast; JPEGs are decoded at reduced size via ``draft``).

An attribute table (``attributes``, see :mod:`vae_atlas.data.attributes`) is matched to the
images by relative path or file name and split with them; ``attributes_sha256``, when given,
must be the table's checksum (a run records it, so an edited table is noticed).

Images declaring more than ``max_pixels`` are refused before decoding (decompression bombs).
Pillow's own limit (``PIL.Image.MAX_IMAGE_PIXELS``, about 89 MP) still applies on top.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from vae_atlas.data.attributes import file_sha256, match_attributes, read_attribute_table
from vae_atlas.data.dataset import DataError, Dataset, split_train_test

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
DEFAULT_MAX_PIXELS = 2**26  # ~67 megapixels: below Pillow's own warning threshold
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})


def load_folder(
    path: str | os.PathLike[str],
    *,
    image_size: int = 64,
    channels: int = 3,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    skip_bad: bool = False,
    attributes: str | os.PathLike[str] | None = None,
    attributes_sha256: str | None = None,
) -> Dataset:
    """Load every image under ``path`` as uint8 (N, channels, image_size, image_size).

    Parameters
    ----------
    path
        The folder; see the module docstring for how classes are found.
    image_size
        Side of the square output images.
    channels
        1 (greyscale) or 3 (RGB).
    test_fraction, seed
        Deterministic train/test split.
    max_pixels
        Refuse images whose declared width x height exceeds this.
    skip_bad
        Skip unreadable images with one warning instead of raising.
    attributes, attributes_sha256
        An attribute table for the images, and the checksum it must have.

    Returns
    -------
    Dataset
        Named ``"folder"``; labels and ``class_names`` only when classes come from subfolders.

    Raises
    ------
    DataError
        Naming the folder (missing, empty) or the offending file.
    """
    root = Path(path).expanduser()
    if channels not in (1, 3):
        raise DataError(f"folder: channels={channels!r} must be 1 or 3")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise DataError(f"folder: image_size={image_size!r} must be a positive integer")
    if not root.is_dir():
        raise DataError(f"{root}: not a directory")
    files, labels, class_names = scan_folder(root)
    arrays, kept, bad = [], [], []
    for index, file in enumerate(files):
        try:
            image = read_image(
                file, image_size=image_size, channels=channels, max_pixels=max_pixels
            )
        except DataError as exc:
            if not skip_bad:
                raise
            bad.append(str(exc))
            continue
        arrays.append(image)
        kept.append(index)
    if bad:
        listing = "\n  ".join(bad)
        warnings.warn(f"{root}: skipped {len(bad)} unreadable images:\n  {listing}", stacklevel=2)
    if not arrays:
        raise DataError(f"{root}: none of the {len(files)} image files could be read")
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N, C, S, S)
    label_tensor = None
    if labels is not None:
        label_tensor = torch.tensor([labels[i] for i in kept], dtype=torch.int64)
    table = None
    kept_paths = [files[i].relative_to(root).as_posix() for i in kept]
    if attributes is not None:
        table = folder_attributes(attributes, kept_paths, attributes_sha256)
    train, test = split_train_test(
        images, label_tensor, None, test_fraction=test_fraction, seed=seed,
        attributes=None if table is None else torch.from_numpy(table[1]),
        names=tuple(kept_paths),
    )  # fmt: skip
    return Dataset(
        name="folder",
        train=train,
        test=test,
        class_names=class_names,
        attribute_names=None if table is None else table[0],
    )


def folder_attributes(
    path: str | os.PathLike[str], relative_paths: list[str], sha256: str | None
) -> tuple[tuple[str, ...], np.ndarray]:
    """Attribute names and values (N, A) float32 for the images at ``relative_paths``."""
    if sha256 is not None and Path(path).is_file() and file_sha256(path) != sha256:
        raise DataError(
            f"{path}: the attribute table changed since the run was made (sha256 differs from "
            f"the recorded {sha256[:12]}…); restore it, or pass --no-verify to use it as it is"
        )
    table = read_attribute_table(path)
    return table.names, match_attributes(table, relative_paths)


def scan_folder(root: Path) -> tuple[list[Path], list[int] | None, tuple[str, ...] | None]:
    """Image files in sorted order, with labels and class names when subfolders define them."""

    def is_image(file: Path) -> bool:
        hidden = any(part.startswith(".") for part in file.relative_to(root).parts)
        return not hidden and file.suffix.lower() in IMAGE_SUFFIXES and file.is_file()

    top = sorted(f for f in root.iterdir() if is_image(f))
    classes = []
    for sub in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        if not _inside(sub, root):
            warnings.warn(f"{sub}: a link to a folder outside {root}; not followed", stacklevel=3)
            continue
        members = sorted(f for f in sub.rglob("*") if is_image(f))
        if members:
            classes.append((sub.name, members))
    if not classes:
        if not top:
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise DataError(f"{root}: no images found (looked for {suffixes}, and in subfolders)")
        return top, None, None
    if top:
        warnings.warn(
            f"{root}: ignoring {len(top)} images lying next to the class subfolders "
            f"({', '.join(name for name, _ in classes)})",
            stacklevel=3,
        )
    files = [f for _, members in classes for f in members]
    labels = [label for label, (_, members) in enumerate(classes) for _ in members]
    return files, labels, tuple(name for name, _ in classes)


def _inside(folder: Path, root: Path) -> bool:
    """Whether ``folder``, links resolved, lies within ``root`` (a link to ``/`` does not)."""
    return folder.resolve().is_relative_to(root.resolve())


def read_image(
    path: str | os.PathLike[str],
    *,
    image_size: int,
    channels: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode one image file to uint8 (image_size, image_size, channels); see module docstring.

    Raises
    ------
    DataError
        Naming the file: not an image, corrupt or truncated, or larger than ``max_pixels``.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise DataError(
                    f"{path}: {width}x{height} = {width * height} pixels exceeds "
                    f"max_pixels={max_pixels} (decompression-bomb guard); raise max_pixels if "
                    "the image is genuine"
                )
            image.draft("RGB" if channels == 3 else "L", (image_size, image_size))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            return _crop_resize(_to_mode(image, channels), image_size)
    except DataError:
        raise
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: refused by Pillow's decompression-bomb guard ({exc})") from None
    except Exception as exc:  # Pillow's decoders raise a zoo of types on malformed input
        raise DataError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None


def _to_mode(image: Image.Image, channels: int) -> Image.Image:
    """``image`` as mode ``L`` (channels=1) or ``RGB`` (channels=3)."""
    target = "RGB" if channels == 3 else "L"
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image).astype(np.float32)  # (H, W)
        scaled = np.clip(wide, 0, 65535) * (255.0 / 65535.0)
        image = Image.fromarray(np.rint(scaled).astype(np.uint8))
    elif image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA")).astype(np.uint16)  # (H, W, 4)
        rgb = (rgba[..., :3] * rgba[..., 3:] + 127) // 255  # composite over black
        image = Image.fromarray(rgb.astype(np.uint8))
    return image if image.mode == target else image.convert(target)


def _crop_resize(image: Image.Image, size: int) -> np.ndarray:
    """Resize the centred square to (size, size); uint8 (size, size, C)."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.resize(
        (size, size),
        Image.Resampling.LANCZOS,
        box=(left, top, left + side, top + side),
        reducing_gap=3.0,
    )
    pixels = np.asarray(square)
    return pixels[..., None] if pixels.ndim == 2 else pixels
