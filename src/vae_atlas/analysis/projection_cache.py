"""The on-disk cache of slow projections (t-SNE, UMAP), shared by the report and the explorer.

An entry is ``<cache_dir>/projection-<method>-<digest>.npz`` holding one array ``coords``
(N, 2). The digest comes from :func:`projection_key` (the model's weights exactly as stored and
the images that were projected) plus the method's seed, so the report and the explorer find each
other's entries for the same run and data, and a retrained model never reads a stale one.

A cache file is untrusted: one that cannot be read, is not a zip, lacks ``coords``, declares more
bytes than N × 2 numbers need, or holds the wrong shape or non-finite numbers is ignored with a
warning and computed again. Writes are atomic (a uniquely named temporary sibling, fsynced, then
renamed), and a failed write (full disk, read-only folder) removes its temporary file and only
warns: the projection is still returned, just not kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

# an .npy header is at most a few hundred bytes; anything larger than this over N x 2 float64s
# is not a file this module wrote
_HEADER_ALLOWANCE = 4096


def fingerprint(*parts: bytes | np.ndarray | str) -> str:
    """A short SHA-256 hex digest of byte strings, arrays and strings (for cache keys)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(str((part.dtype, part.shape)).encode())
            part = np.ascontiguousarray(part).tobytes()
        elif isinstance(part, str):
            part = part.encode()
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def projection_key(model: nn.Module, images: torch.Tensor | np.ndarray) -> str:
    """The cache key of projecting ``model``'s codes of ``images`` (N, C, H, W).

    Weights are hashed as stored (dtype and shape included), never converted, so every caller
    that holds the same model and images gets the same key.
    """
    parts: list[bytes | np.ndarray | str] = []
    for name, tensor in sorted(model.state_dict().items()):
        parts += [name, tensor.detach().cpu().contiguous().numpy()]
    pixels = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    parts.append(pixels)
    if hasattr(model, "level"):  # a hierarchical model encodes the level it shows
        parts.append(f"level {model.level}")
    return fingerprint(*parts)


def cache_path(cache_dir: str | Path, key: str, method: str, seed: int) -> Path:
    """Where the ``method`` projection with ``seed`` under ``key`` is stored."""
    return Path(cache_dir) / f"projection-{method}-{fingerprint(key, str(seed))}.npz"


def read_coords(path: Path, n_points: int) -> np.ndarray | None:
    """The cached coordinates (n_points, 2), or None when there is no usable entry.

    A damaged entry (anything but a file this module wrote for ``n_points`` points) gives a
    warning naming the file and is otherwise treated as missing.
    """
    if not path.exists():
        return None
    problem = _load_checked(path, n_points)
    if isinstance(problem, str):
        warnings.warn(
            f"{path}: ignoring a damaged projection cache ({problem}); computing it again",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return problem


def _load_checked(path: Path, n_points: int) -> np.ndarray | str:
    """The coordinates in ``path``, or a short description of what is wrong with it."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo("coords.npy").file_size
        if size > n_points * 2 * 8 + _HEADER_ALLOWANCE:
            return f"'coords' declares {size} bytes, more than {n_points} points need"
        with np.load(path, allow_pickle=False) as saved:
            coords = saved["coords"]
    except KeyError:
        return "no 'coords' array"
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        return f"unreadable: {exc}"
    if coords.shape != (n_points, 2):
        return f"'coords' has shape {coords.shape}, expected ({n_points}, 2)"
    if coords.dtype.kind != "f" or not np.all(np.isfinite(coords)):
        return "'coords' is not finite floating point"
    return coords.astype(np.float64)


def write_coords(path: Path, coords: np.ndarray) -> bool:
    """Store ``coords`` atomically at ``path``; False (with a warning) if it cannot be written."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, coords=np.asarray(coords, dtype=np.float64))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return True
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        warnings.warn(
            f"{path}: projection not cached ({exc.strerror or exc}); it will be computed again "
            "next time",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
