"""Property-based fuzzing of everything that reads user files: IDX files and image files.

Whatever the bytes, a reader either returns well-formed data or raises :class:`DataError` naming
the file — never another exception, never a huge allocation.
"""

from __future__ import annotations

import gzip
import io
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from vae_atlas.data import DataError, read_idx
from vae_atlas.data.folder import read_image

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def valid_idx(n: int = 3) -> bytes:
    data = np.arange(n * 4 * 4, dtype=np.uint8)
    return bytes([0, 0, 8, 3]) + struct.pack(">3I", n, 4, 4) + data.tobytes()


def check_idx(tmp_path, payload: bytes) -> None:
    path = tmp_path / "fuzz-idx"
    path.write_bytes(payload)
    try:
        out = read_idx(path, max_bytes=1 << 20)
    except DataError as exc:
        assert str(path) in str(exc)
        return
    assert out.numel() <= 1 << 20


@FUZZ
@given(payload=st.binary(max_size=300))
def test_random_bytes(tmp_path, payload):
    check_idx(tmp_path, payload)


@FUZZ
@given(
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=6),
    code=st.integers(0, 255),
    tail=st.binary(max_size=64),
)
def test_arbitrary_headers_never_allocate_blindly(tmp_path, dims, code, tail):
    header = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    check_idx(tmp_path, header + tail)


@FUZZ
@given(
    cut=st.integers(0, 56),
    flip=st.tuples(st.integers(0, 55), st.integers(1, 255)),
    gz=st.booleans(),
)
def test_truncated_or_flipped_valid_files(tmp_path, cut, flip, gz):
    data = bytearray(valid_idx())
    data[flip[0]] ^= flip[1]
    payload = bytes(data[: len(data) - cut])
    check_idx(tmp_path, gzip.compress(payload, mtime=0) if gz else payload)


@FUZZ
@given(payload=st.binary(min_size=1, max_size=200))
def test_damaged_gzip_stream(tmp_path, payload):
    good = gzip.compress(valid_idx(), mtime=0)
    check_idx(tmp_path, good[:10] + payload)


def image_bytes(fmt: str, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (12, 9), color=None).save(buf, format=fmt)
    return buf.getvalue()


def check_image(tmp_path, payload: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(payload)
    try:
        out = read_image(path, image_size=8, channels=3)
    except DataError as exc:
        assert str(path) in str(exc)
        return
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8


@FUZZ
@given(payload=st.binary(max_size=400), suffix=st.sampled_from([".png", ".jpg", ".gif", ".bmp"]))
def test_random_bytes_as_images(tmp_path, payload, suffix):
    check_image(tmp_path, payload, suffix)


@FUZZ
@given(
    fmt=st.sampled_from(
        [
            ("PNG", "RGB"),
            ("PNG", "P"),
            ("PNG", "LA"),
            ("PNG", "I;16"),
            ("JPEG", "RGB"),
            ("JPEG", "CMYK"),
            ("GIF", "P"),
            ("BMP", "1"),
        ]
    ),
    cut=st.integers(0, 200),
    flip=st.tuples(st.integers(0, 10_000), st.integers(1, 255)),
)
def test_truncated_or_flipped_images(tmp_path, fmt, cut, flip):
    data = bytearray(image_bytes(*fmt))
    data[flip[0] % len(data)] ^= flip[1]
    payload = bytes(data[: max(0, len(data) - cut)])
    check_image(tmp_path, payload, "." + fmt[0].lower())


def test_declared_huge_png_is_refused_before_decoding(tmp_path):
    # a valid PNG header declaring 100k x 100k pixels, with almost no data behind it
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    payload = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "bomb.png"
    path.write_bytes(payload)
    with pytest.raises(DataError, match="bomb|max_pixels|too large"):
        read_image(path, image_size=8, channels=1)
