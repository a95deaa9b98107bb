"""IDX files: the container format of MNIST and Fashion-MNIST (LeCun et al. 1998).

An IDX file is two zero bytes, a type code (0x08 = uint8, the only one these datasets use), the
number of dimensions, one big-endian uint32 per dimension, then the data in C order. Files may be
gzip-compressed; gzip is recognised by its magic bytes, never by the file name. Declared sizes are
checked against a limit and against what the file can hold *before* anything is allocated.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from vae_atlas.data.dataset import DataError

DEFAULT_MAX_BYTES = 2**31
"""Largest data block :func:`read_idx` agrees to allocate (the declared element count, in bytes)."""

_TYPE_NAMES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32"}
GZIP_MAGIC = b"\x1f\x8b"
# zlib's deflate expands at most ~1032:1, which bounds what a gzip file of a given size can hold.
_MAX_DEFLATE_RATIO = 1032
CHUNK_BYTES = 1 << 22


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> torch.Tensor:
    """Read a raw or gzipped uint8 IDX file.

    Parameters
    ----------
    path
        The file; gzip is detected from its first two bytes.
    max_bytes
        Refuse, before allocating, a header that declares more data than this.

    Returns
    -------
    torch.Tensor
        uint8 tensor with the shape the header declares, e.g. (n_images, 28, 28).

    Raises
    ------
    DataError
        Naming the file and the problem: bad magic, unsupported type code, too many dimensions,
        declared size over the limit, truncated data, trailing garbage, corrupt gzip stream.
    """
    _, data = read_idx_with_header(Path(path), max_bytes)
    return torch.from_numpy(data)


def read_idx_with_header(
    path: Path, max_bytes: int, *, expect_bytes: int | None = None
) -> tuple[bytes, np.ndarray]:
    """Return (header bytes, data array) so callers can hash exactly the decompressed file.

    ``expect_bytes``: the data size of the published file the caller will verify against; a
    header declaring another size is refused before anything is decompressed or allocated.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror or exc})") from None
    with raw:
        file_size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            with stream:
                return _parse_stream(stream, path, file_size, compressed, max_bytes, expect_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            if compressed:
                raise DataError(f"{path}: not gzip/corrupt gzip stream ({exc})") from None
            raise DataError(f"{path}: read error ({exc})") from None


def _parse_stream(
    stream: io.BufferedIOBase,
    path: Path,
    file_size: int,
    compressed: bool,
    max_bytes: int,
    expect_bytes: int | None,
) -> tuple[bytes, np.ndarray]:
    head = stream.read(4)
    if len(head) < 4:
        raise DataError(f"{path}: truncated: {len(head)} bytes, too short for an IDX header")
    if head[:2] != b"\0\0":
        raise DataError(
            f"{path}: bad magic 0x{head.hex()}: an IDX file starts with two zero bytes, a type "
            "code and the number of dimensions (is this an IDX file?)"
        )
    code, ndim = head[2], head[3]
    if code != 0x08:
        kind = _TYPE_NAMES.get(code, "unknown")
        raise DataError(
            f"{path}: type code 0x{code:02x} ({kind}) is not supported; only 0x08 uint8"
        )
    if not 1 <= ndim <= 4:
        raise DataError(f"{path}: header declares {ndim} dimensions; expected 1 to 4")
    dims_raw = stream.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DataError(f"{path}: truncated: the header's {ndim} dimension sizes are cut off")
    shape = struct.unpack(f">{ndim}I", dims_raw)
    n_bytes = math.prod(shape)
    declared = f"header declares {'x'.join(map(str, shape))} = {n_bytes} bytes of data"
    if n_bytes > max_bytes:
        raise DataError(f"{path}: {declared}, over the limit of {max_bytes} bytes; refused")
    if expect_bytes is not None and n_bytes != expect_bytes:
        raise DataError(
            f"{path}: {declared}, but the published file holds {expect_bytes}, so it cannot "
            "match the checksum; refused before reading (pass --no-verify for a variant)"
        )
    header_len = 4 + 4 * ndim
    if not compressed and n_bytes != file_size - header_len:
        problem = "truncated" if n_bytes > file_size - header_len else "trailing garbage"
        raise DataError(f"{path}: {problem}: {declared} but file holds {file_size - header_len}")
    if compressed and n_bytes > file_size * _MAX_DEFLATE_RATIO:
        raise DataError(f"{path}: {declared}, more than a {file_size}-byte gzip file can hold")
    data = np.empty(n_bytes, dtype=np.uint8)
    view, got = memoryview(data), 0
    while got < n_bytes:
        n = stream.readinto(view[got : got + CHUNK_BYTES])
        if not n:
            raise DataError(f"{path}: truncated: {declared} but file holds {got}")
        got += n
    if stream.read(1):
        raise DataError(f"{path}: trailing garbage: more data than the {declared}")
    return head + dims_raw, data.reshape(shape)
