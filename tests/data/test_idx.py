"""IDX reading, MNIST/Fashion-MNIST loading, checksums and downloads (no network: file:// only)."""

from __future__ import annotations

import gzip
import hashlib
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_atlas.data import DataError, load_idx_dataset, read_idx, resolve_data_dir
from vae_atlas.data import mnist as idx_module

STEMS = idx_module.FILES


def idx_bytes(
    array: np.ndarray, *, code: int = 0x08, shape: tuple[int, ...] | None = None
) -> bytes:
    """Serialise ``array`` as IDX; ``shape`` overrides the declared dimensions."""
    dims = array.shape if shape is None else shape
    header = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write(path: Path, payload: bytes, *, gz: bool) -> Path:
    path.write_bytes(gzip.compress(payload, mtime=0) if gz else payload)
    return path


def make_idx_dir(root: Path, *, n_train: int = 12, n_test: int = 5, gz: bool = True) -> Path:
    """The four MNIST-named files with random content (checksums will not match the real ones)."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte" + (".gz" if gz else "")
            write(root / name, idx_bytes(array), gz=gz)
    return root


def decompressed_sha256(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha256(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).hexdigest()


# --- read_idx -----------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 28, 28), (2, 3, 4, 5)])
def test_read_idx_round_trips_raw_and_gzip(tmp_path, gz, shape):
    array = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    path = write(tmp_path / "f.idx", idx_bytes(array), gz=gz)
    out = read_idx(path)
    assert out.dtype == torch.uint8
    assert tuple(out.shape) == shape
    assert np.array_equal(out.numpy(), array)


def test_gzip_is_detected_by_magic_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    gz_named_raw = write(tmp_path / "a.gz", idx_bytes(array), gz=False)
    raw_named_gz = write(tmp_path / "b", idx_bytes(array), gz=True)
    assert np.array_equal(read_idx(gz_named_raw).numpy(), array)
    assert np.array_equal(read_idx(raw_named_gz).numpy(), array)


BROKEN = {
    "bad magic": (b"\x12\x34\x08\x01" + struct.pack(">I", 2) + b"ab", "bad magic 0x12340801"),
    "float type code": (idx_bytes(np.zeros(2, np.uint8), code=0x0D), "type code 0x0d"),
    "unknown type code": (idx_bytes(np.zeros(2, np.uint8), code=0x42), "type code 0x42"),
    "zero dims": (bytes([0, 0, 8, 0]), "0 dimensions"),
    "five dims": (idx_bytes(np.zeros((1,) * 5, np.uint8)), "5 dimensions"),
    "short header": (b"\0\0", "too short"),
    "cut dims": (bytes([0, 0, 8, 3]) + struct.pack(">I", 5), "dimension sizes are cut off"),
    "truncated": (
        idx_bytes(np.zeros(40, np.uint8), shape=(3, 4, 4)),
        "truncated: header declares 3x4x4 = 48 bytes of data but file holds 40",
    ),
    "trailing garbage": (idx_bytes(np.zeros(5, np.uint8)) + b"junk", "trailing garbage"),
}


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_files_raise_data_error_naming_the_file(tmp_path, case, gz):
    payload, message = BROKEN[case]
    path = write(tmp_path / f"broken-{case.replace(' ', '-')}", payload, gz=gz)
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    if not (gz and case == "truncated"):  # a gzip file's data size is only known by reading it
        assert message in str(info.value)
    else:
        assert "truncated" in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_huge_declared_size_is_refused_before_allocating(tmp_path, gz):
    # 10^18 bytes: an attempt to allocate would raise MemoryError, not DataError.
    header = idx_bytes(np.zeros(0, np.uint8), shape=(10**6, 10**6, 10**6))
    path = write(tmp_path / "huge", header + b"\0" * 64, gz=gz)
    with pytest.raises(DataError, match="over the limit") as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert "1000000x1000000x1000000" in str(info.value)


def test_gzip_declaring_more_than_it_can_hold_is_refused(tmp_path):
    path = write(tmp_path / "tiny.gz", idx_bytes(np.zeros(0, np.uint8), shape=(10**9,)), gz=True)
    with pytest.raises(DataError, match="gzip file can hold"):
        read_idx(path)


def test_max_bytes_limit_is_configurable(tmp_path):
    path = write(tmp_path / "f", idx_bytes(np.zeros((4, 4), np.uint8)), gz=False)
    with pytest.raises(DataError, match="over the limit of 15 bytes"):
        read_idx(path, max_bytes=15)
    assert read_idx(path, max_bytes=16).shape == (4, 4)


def test_corrupt_gzip_stream(tmp_path):
    path = tmp_path / "corrupt.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x08\x00" + bytes(range(200)))
    with pytest.raises(DataError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_cut_gzip_stream(tmp_path):
    noise = np.random.default_rng(2).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    whole = gzip.compress(idx_bytes(noise))
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="cannot open"):
        read_idx(tmp_path / "nope")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataError, match="too short"):
        read_idx(tmp_path / "empty")


# --- load_idx_dataset ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_load_synthetic_mnist(tmp_path, gz):
    root = make_idx_dir(tmp_path / "mnist", gz=gz)
    ds = load_idx_dataset("mnist", data_dir=root, verify=False)
    assert ds.name == "mnist"
    assert ds.train.images.shape == (12, 1, 28, 28)
    assert ds.test.images.shape == (5, 1, 28, 28)
    assert ds.train.images.dtype == torch.uint8
    assert ds.train.labels.dtype == torch.int64
    assert ds.train.labels.tolist() == [i % 10 for i in range(12)]
    assert ds.class_names == tuple("0123456789")
    payload = (root / ("train-images-idx3-ubyte" + (".gz" if gz else ""))).read_bytes()
    expected = np.frombuffer(gzip.decompress(payload) if gz else payload, np.uint8, offset=16)
    assert np.array_equal(ds.train.images.numpy().ravel(), expected)


def test_fashion_mnist_class_names(tmp_path):
    root = make_idx_dir(tmp_path / "fm")
    ds = load_idx_dataset("fashion-mnist", data_dir=root, verify=False)
    assert ds.class_names[0] == "T-shirt/top"
    assert ds.class_names[9] == "Ankle boot"
    assert len(ds.class_names) == 10


def test_unknown_dataset_name(tmp_path):
    with pytest.raises(DataError, match="unknown IDX dataset"):
        load_idx_dataset("cifar", data_dir=tmp_path)


def test_count_mismatch_names_both_files(tmp_path):
    root = make_idx_dir(tmp_path)
    write(root / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, np.uint8)), gz=True)
    with pytest.raises(DataError, match="5 images but .* 4 labels") as info:
        load_idx_dataset("mnist", data_dir=root, verify=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_label_out_of_range(tmp_path):
    root = make_idx_dir(tmp_path)
    write(root / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.array([1, 2, 10, 3, 4])), gz=True)
    with pytest.raises(DataError, match=r"label 10 at index 2 is outside 0..9"):
        load_idx_dataset("mnist", data_dir=root, verify=False)


def test_wrong_image_size(tmp_path):
    root = make_idx_dir(tmp_path)
    write(root / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((5, 27, 28))), gz=True)
    with pytest.raises(
        DataError, match=r"t10k-images-idx3-ubyte.gz: expected images \(N, 28, 28\)"
    ):
        load_idx_dataset("mnist", data_dir=root, verify=False)


def _patch_sha256(monkeypatch, root: Path, *, wrong: str | None = None) -> None:
    table = {}
    for stem in STEMS:
        digest = "0" * 64 if stem == wrong else decompressed_sha256(root / f"{stem}.gz")
        table[stem] = idx_module.FileChecksum("sha256", digest)
    monkeypatch.setitem(idx_module.CHECKSUMS, "mnist", table)


def test_checksum_match_and_mismatch(tmp_path, monkeypatch):
    root = make_idx_dir(tmp_path)
    _patch_sha256(monkeypatch, root)
    assert len(load_idx_dataset("mnist", data_dir=root, verify=True).train) == 12
    _patch_sha256(monkeypatch, root, wrong="train-labels-idx1-ubyte")
    with pytest.raises(DataError) as info:
        load_idx_dataset("mnist", data_dir=root, verify=True)
    message = str(info.value)
    assert str(root / "train-labels-idx1-ubyte.gz") in message
    assert "expected sha256 " + "0" * 64 in message
    assert decompressed_sha256(root / "train-labels-idx1-ubyte.gz") in message
    assert "--no-verify" in message
    assert len(load_idx_dataset("mnist", data_dir=root, verify=False).train) == 12


def test_real_checksums_reject_synthetic_files(tmp_path):
    root = make_idx_dir(tmp_path)
    with pytest.raises(DataError, match="cannot match the checksum"):  # 12 images, not 60,000
        load_idx_dataset("mnist", data_dir=root)


def test_fashion_verifies_md5_of_gz_and_refuses_raw(tmp_path, monkeypatch):
    root = make_idx_dir(tmp_path / "gz")
    table = {
        stem: idx_module.FileChecksum(
            "md5", hashlib.md5((root / f"{stem}.gz").read_bytes()).hexdigest(), of_gzip=True
        )
        for stem in STEMS
    }
    monkeypatch.setitem(idx_module.CHECKSUMS, "fashion-mnist", table)
    assert len(load_idx_dataset("fashion-mnist", data_dir=root).test) == 5
    raw_root = make_idx_dir(tmp_path / "raw", gz=False)
    with pytest.raises(DataError, match="cannot verify an uncompressed file"):
        load_idx_dataset("fashion-mnist", data_dir=raw_root)
    assert len(load_idx_dataset("fashion-mnist", data_dir=raw_root, verify=False).test) == 5


def test_missing_files_message_lists_paths(tmp_path):
    root = make_idx_dir(tmp_path / "partial")
    (root / "t10k-images-idx3-ubyte.gz").unlink()
    (root / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as info:
        load_idx_dataset("mnist", data_dir=root)
    message = str(info.value)
    assert "2 of 4 files missing" in message
    assert str(root / "t10k-images-idx3-ubyte.gz") in message
    assert str(root / "train-labels-idx1-ubyte.gz") in message
    assert "train-images" not in message
    for hint in ("--download", "--data-dir", "VAE_ATLAS_DATA"):
        assert hint in message


def test_download_from_file_url(tmp_path, monkeypatch):
    mirror = make_idx_dir(tmp_path / "mirror")
    _patch_sha256(monkeypatch, mirror)
    target = tmp_path / "cache" / "mnist"
    ds = load_idx_dataset("mnist", data_dir=target, download=True, base_url=mirror.as_uri())
    assert len(ds.train) == 12 and len(ds.test) == 5
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    for stem in STEMS:
        assert (target / f"{stem}.gz").read_bytes() == (mirror / f"{stem}.gz").read_bytes()


def test_download_failing_checksum_leaves_nothing(tmp_path, monkeypatch):
    mirror = make_idx_dir(tmp_path / "mirror")
    _patch_sha256(monkeypatch, mirror, wrong="train-images-idx3-ubyte")
    target = tmp_path / "target"
    with pytest.raises(DataError, match="checksum mismatch") as info:
        load_idx_dataset("mnist", data_dir=target, download=True, base_url=mirror.as_uri() + "/")
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert not (target / "train-images-idx3-ubyte.gz").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_download_of_corrupt_content_leaves_nothing_even_without_verify(tmp_path):
    mirror = make_idx_dir(tmp_path / "mirror")
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    target = tmp_path / "target"
    with pytest.raises(DataError, match="gzip"):
        load_idx_dataset(
            "mnist", data_dir=target, download=True, verify=False, base_url=mirror.as_uri()
        )
    assert not (target / "t10k-labels-idx1-ubyte.gz").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_download_from_missing_url(tmp_path):
    target = tmp_path / "target"
    with pytest.raises(DataError, match="download failed"):
        load_idx_dataset(
            "mnist", data_dir=target, download=True, base_url=(tmp_path / "void").as_uri()
        )
    assert list(target.iterdir()) == []


def test_resolve_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_ATLAS_DATA", str(tmp_path / "root"))
    assert resolve_data_dir(str(tmp_path / "x"), "mnist") == tmp_path / "x"
    assert resolve_data_dir(None, "mnist") == tmp_path / "root" / "mnist"
    monkeypatch.delenv("VAE_ATLAS_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(None, "fashion-mnist") == tmp_path / "xdg" / "vae-atlas/fashion-mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_data_dir(None, "mnist") == tmp_path / "home" / ".cache" / "vae-atlas" / "mnist"


def test_load_without_data_dir_uses_environment(tmp_path, monkeypatch):
    make_idx_dir(tmp_path / "root" / "mnist")
    monkeypatch.setenv("VAE_ATLAS_DATA", str(tmp_path / "root"))
    assert len(load_idx_dataset("mnist", data_dir=None, verify=False).train) == 12


# --- the real thing -----------------------------------------------------------------------------


@pytest.mark.mnist
def test_real_mnist(mnist_dir):
    ds = load_idx_dataset("mnist", data_dir=mnist_dir, verify=True)
    assert ds.train.images.shape == (60000, 1, 28, 28)
    assert ds.test.images.shape == (10000, 1, 28, 28)
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert torch.bincount(ds.train.labels).tolist() == train_counts
    assert torch.bincount(ds.test.labels).tolist() == test_counts
    assert ds.train.images.double().mean().item() == pytest.approx(33.318, abs=1e-3)


def _zero_bomb(path: Path, n_images: int) -> Path:
    """A gzip IDX whose header declares ``n_images`` 28x28 images of zeros (compresses ~1000:1)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", n_images, 28, 28)
    with path.open("wb") as handle:
        handle.write(packer.compress(header))
        zeros = bytes(1 << 20)
        left = n_images * 28 * 28
        while left:
            chunk = zeros[: min(left, len(zeros))]
            handle.write(packer.compress(chunk))
            left -= len(chunk)
        handle.write(packer.flush())
    return path


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_a_gzip_bomb_is_refused_before_it_is_decompressed(tmp_path, name):
    root = make_idx_dir(tmp_path)
    bomb = _zero_bomb(root / "train-images-idx3-ubyte.gz", 250_000)  # declares 196 MB
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            load_idx_dataset(name, data_dir=root)  # verify=True: the published checksums
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(bomb) in str(info.value)
    assert peak < 20_000_000, f"{peak} bytes allocated before refusing"
    if name == "mnist":  # checked against the published decompressed size: 60,000 x 28 x 28
        assert "47040000" in str(info.value)
    else:  # the published digest is of the .gz file, checked before decompressing
        assert "checksum mismatch" in str(info.value)
