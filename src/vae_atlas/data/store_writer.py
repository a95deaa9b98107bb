"""Writing an image store (the layout is described in :mod:`vae_atlas.data.store`).

Everything is written into a temporary sibling folder, each file fsynced, the header last, and
the folder renamed into place: an interrupted ``prepare`` leaves no store at all, never half of
one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vae_atlas.data.dataset import Dataset, ImageSet
from vae_atlas.data.store import (
    HEADER,
    check_new_store,
    file_sha256,
    fsync_dir,
    header_dict,
)

# rows written per chunk: a mapped source split is copied without holding it all in memory
_WRITE_ROWS = 65_536


def _write_array(path: Path, array: torch.Tensor, release: Any = None) -> dict[str, str]:
    """Write ``array`` as a ``.npy`` file chunk by chunk; returns its header entry."""
    header = {"descr": np.lib.format.dtype_to_descr(array.numpy().dtype),
              "fortran_order": False, "shape": tuple(array.shape)}  # fmt: skip
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for start in range(0, array.shape[0], _WRITE_ROWS):
            stop = min(start + _WRITE_ROWS, array.shape[0])
            f.write(np.ascontiguousarray(array[start:stop].numpy()).tobytes())
            if release is not None:
                release(start, stop)
        f.flush()
        os.fsync(f.fileno())
    return {"file": path.name, "sha256": file_sha256(path)}


def _write_split(folder: Path, split: str, images: ImageSet) -> dict[str, Any]:
    files: dict[str, Any] = {
        "images": _write_array(folder / f"{split}-images.npy", images.images, images.release_rows)
    }
    for kind, value in (("labels", images.labels), ("factors", images.factors)):
        if value is not None:
            files[kind] = _write_array(folder / f"{split}-{kind}.npy", value)
    return {"n": len(images), "files": files}


def write_store(data: Dataset, out: str | Path, *, source: str) -> Path:
    """Write ``data`` (train, validation if any, test) as an image store at ``out``.

    ``out`` must not exist or be an empty folder. ``source`` describes where the images came
    from (recorded in the header). Returns the store's path.
    """
    out = Path(out)
    check_new_store(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp's private 0o700 is for the temporary name only
        splits = {"train": data.train, "val": data.val, "test": data.test}
        entries = {s: _write_split(tmp, s, part) for s, part in splits.items() if part is not None}
        header = json.dumps(header_dict(data, entries, source), indent=2) + "\n"
        with open(tmp / HEADER, "w", encoding="utf-8") as f:
            f.write(header)
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(tmp)
        if out.exists():  # an empty folder (checked above): rename replaces it
            out.rmdir()
        os.rename(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
