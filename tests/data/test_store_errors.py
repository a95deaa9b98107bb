"""Damaged, mismatched or newer image stores get one line naming the file; ``prepare`` never
writes over anything and an interrupted one leaves nothing behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_atlas.cli import main
from vae_atlas.data import DataError, Dataset, ImageSet, load_store, write_store


def tiny_dataset() -> Dataset:
    """12 train, 4 validation and 4 test images of 1×4×4, each filled with its own index."""
    images = torch.arange(20, dtype=torch.uint8).repeat_interleave(16).reshape(20, 1, 4, 4)
    labels = torch.arange(20) % 3
    part = [ImageSet(images[a:b], labels[a:b]) for a, b in ((0, 12), (12, 16), (16, 20))]
    return Dataset("tiny", train=part[0], val=part[1], test=part[2], class_names=("a", "b", "c"))


@pytest.fixture
def store(tmp_path) -> Path:
    return write_store(tiny_dataset(), tmp_path / "store", source="hand-made")


def header(store: Path) -> dict:
    return json.loads((store / "store.json").read_text())


def rewrite_header(store: Path, head: dict) -> None:
    (store / "store.json").write_text(json.dumps(head))


def test_a_good_store_loads_with_its_bytes(store):
    data = load_store(store)
    # row i of the source holds the value i: train 0..11, val 12..15, test 16..19
    assert data.train.images[:, 0, 0, 0].tolist() == list(range(12))
    assert data.val.images[:, 0, 0, 0].tolist() == [12, 13, 14, 15]
    assert data.test.labels.tolist() == [1, 2, 0, 1]


def test_header_and_data_disagree_on_length(store):
    head = header(store)
    head["splits"]["train"]["n"] = 13
    rewrite_header(store, head)
    with pytest.raises(DataError, match=r"train-images\.npy: shape \(12, 1, 4, 4\) but .* \(13"):
        load_store(store)


def test_header_and_data_disagree_on_image_shape(store):
    head = header(store)
    head["image_shape"] = [1, 2, 8]
    rewrite_header(store, head)
    with pytest.raises(DataError, match=r"train-images\.npy: shape .* disagree"):
        load_store(store)


def test_a_truncated_array_is_named(store):
    path = store / "test-images.npy"
    path.write_bytes(path.read_bytes()[:-5])  # 4 images × 16 bytes after the .npy header
    with pytest.raises(DataError, match=r"test-images\.npy: truncated \(\d+ bytes, expected"):
        load_store(store)


def test_a_missing_file_is_named(store):
    (store / "val-labels.npy").unlink()
    with pytest.raises(DataError, match=r"val-labels\.npy: missing \(listed in store\.json\)"):
        load_store(store)


def test_a_missing_header_says_what_a_store_is(tmp_path):
    with pytest.raises(DataError, match=r"store\.json: missing.*vae-atlas prepare"):
        load_store(tmp_path)


def test_a_newer_format_version_is_refused(store):
    head = header(store)
    head["format_version"] = 2
    rewrite_header(store, head)
    with pytest.raises(DataError, match=r"store\.json: store format version 2 is newer .* \(1\)"):
        load_store(store)


def test_changed_bytes_fail_the_checksum_only_when_verifying(store):
    path = store / "train-images.npy"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF  # same length, one pixel changed
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"train-images\.npy: SHA-256 differs"):
        load_store(store)
    assert int(load_store(store, verify=False).train.images[-1, 0, 3, 3]) == 11 ^ 0xFF


def test_a_wrong_dtype_is_named(store):
    np.save(store / "test-images.npy", np.zeros((4, 1, 4, 4), dtype=np.float32))
    with pytest.raises(DataError, match=r"test-images\.npy: dtype float32"):
        load_store(store, verify=False)


def test_cli_errors_are_one_line(store, capsys):
    (store / "train-images.npy").unlink()
    code = main(["train", "--dataset", "store", "--data-dir", str(store), "--out",
                 str(store.parent / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "train-images.npy: missing" in err
    assert not (store.parent / "run").exists()


def test_prepare_refuses_a_non_empty_folder(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code = main(["prepare", "--dataset", "digits", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "already exists and is not empty" in err and str(out) in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_an_interrupted_prepare_leaves_nothing(tmp_path):
    data = tiny_dataset()

    def interrupt(start: int, stop: int) -> None:
        raise KeyboardInterrupt

    broken = Dataset(
        "tiny", train=data.train, test=ImageSet(data.test.images, release_rows=interrupt)
    )
    with pytest.raises(KeyboardInterrupt):
        write_store(broken, tmp_path / "store", source="hand-made")
    assert list(tmp_path.iterdir()) == []  # neither the store nor its temporary folder


def test_prepare_into_an_empty_folder_works(tmp_path):
    (tmp_path / "empty").mkdir()
    write_store(tiny_dataset(), tmp_path / "empty", source="hand-made")
    assert len(load_store(tmp_path / "empty").train) == 12
    shutil.rmtree(tmp_path / "empty")


def test_prepare_a_folder_chooses_its_geometry_and_keeps_class_names(tmp_path, capsys):
    from PIL import Image

    for name, grey in (("dark", 40), ("light", 200)):
        (tmp_path / "src" / name).mkdir(parents=True)
        for i in range(10):
            Image.new("L", (12, 12), grey + i).save(tmp_path / "src" / name / f"{i}.png")
    out = tmp_path / "store"
    assert main(["prepare", "--dataset", "folder", "--data-dir", str(tmp_path / "src"),
                 "--out", str(out)]) == 0  # fmt: skip
    said = capsys.readouterr().out
    assert "chose --channels 1" in said and "chose --image-size 12" in said
    data = load_store(out)
    assert data.class_names == ("dark", "light") and data.image_shape == (1, 12, 12)
    # 20 images: 4 for test, then of the 16 left 10 % but at least 10 and at most half
    assert (len(data.train), len(data.val), len(data.test)) == (8, 8, 4)
    pixels = torch.cat([data.train.images, data.val.images, data.test.images]).flatten(1)
    assert sorted(pixels[:, 0].tolist()) == sorted(
        [40 + i for i in range(10)] + [200 + i for i in range(10)]
    )
