"""The on-disk image store: what it holds, that it is memory-mapped, and that training, resume
and encoding from it give exactly what the in-memory dataset gives."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.analysis.encode import encode_images
from vae_atlas.checkpoint import load_tensors
from vae_atlas.config import DataConfig
from vae_atlas.data import (
    DataError,
    ImageSet,
    load_dataset,
    load_store,
    split_validation,
    write_store,
)
from vae_atlas.training import train

from ..tiny_runs import tiny_config as base_config

tiny_config = partial(base_config, lr_final_fraction=1.0)


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits"))


@pytest.fixture(scope="module")
def store(digits, tmp_path_factory) -> Path:
    return write_store(digits, tmp_path_factory.mktemp("s") / "digits", source="digits")


def mapped_files(tensor: torch.Tensor) -> set[str]:
    """Files whose mapping (per /proc/self/maps) holds the tensor's first byte."""
    address = tensor.data_ptr()
    found = set()
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        lo, hi = (int(v, 16) for v in fields[0].split("-"))
        if lo <= address < hi and len(fields) >= 6:
            found.add(fields[5])
    return found


def test_round_trip_keeps_every_split_label_and_name(digits, store):
    back = load_store(store)
    for split in ("train", "val", "test"):
        a, b = getattr(digits, split), getattr(back, split)
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert back.class_names == digits.class_names and back.name == "digits"
    head = json.loads((store / "store.json").read_text())
    # the digits split: 1,797 images, 20 % test, 10 % of the rest for validation
    assert {s: head["splits"][s]["n"] for s in ("train", "val", "test")} == {
        "train": 1294,
        "val": 144,
        "test": 359,
    }
    assert head["image_shape"] == [1, 8, 8] and head["format_version"] == 1


def test_images_are_memory_mapped_from_the_store_file(store):
    data = load_store(store)
    assert mapped_files(data.train.images) == {str((store / "train-images.npy").resolve())}
    assert mapped_files(data.test.images) == {str((store / "test-images.npy").resolve())}


def test_factors_travel_and_the_prepared_split_is_kept(tmp_path):
    shapes = load_dataset(DataConfig(name="shapes", image_size=32, n_samples=200, val_size=7))
    store = write_store(shapes, tmp_path / "shapes", source="shapes")
    back = load_store(store)
    assert torch.equal(back.train.factors, shapes.train.factors)
    assert back.factor_names == shapes.factor_names and len(back.val) == 7
    # no --val-size: the store's own 7 (not the 10 % default, 16 of 160)
    loaded = split_validation(
        load_dataset(DataConfig(name="store", data_dir=str(store))), val_size=None, seed=3
    )
    assert (len(loaded.train), len(loaded.val), len(loaded.test)) == (153, 7, 40)
    with pytest.raises(DataError, match=r"validation split of 7 images.*--val-size 5"):
        load_store(store, val_size=5)
    assert len(load_store(store, val_size=7).val) == 7


def test_training_from_the_store_equals_training_in_memory(tmp_path, digits, store):
    cfg = tiny_config(epochs=2)
    train(cfg, tmp_path / "mem", dataset=digits, progress=False)
    on_store = replace(cfg, data=DataConfig(name="store", data_dir=str(store)))
    train(on_store, tmp_path / "store", progress=False)
    a = load_tensors(tmp_path / "mem" / "model.safetensors")[0]
    b = load_tensors(tmp_path / "store" / "model.safetensors")[0]
    assert all(torch.equal(a[k], b[k]) for k in a)
    run = va.load_run(tmp_path / "store")
    assert run.metrics[0]["n_train"] == 1294 and run.metrics[0]["n_val"] == 144


def test_resume_on_a_store_equals_the_uninterrupted_run(tmp_path, store):
    cfg = tiny_config(epochs=3, dynamic_binarization=True)
    cfg = replace(cfg, data=DataConfig(name="store", data_dir=str(store)))
    train(cfg, tmp_path / "full", progress=False)
    train(replace(cfg, train=replace(cfg.train, epochs=1)), tmp_path / "part", progress=False)
    train(cfg, tmp_path / "part", progress=False, resume=True)
    a = load_tensors(tmp_path / "full" / "model.safetensors")[0]
    b = load_tensors(tmp_path / "part" / "model.safetensors")[0]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_encoding_a_mapped_split_releases_every_row_and_matches(tmp_path, digits, store):
    cfg = tiny_config(epochs=1)
    train(cfg, tmp_path / "run", dataset=digits, progress=False)
    model = va.load_run(tmp_path / "run").model
    mapped = load_store(store).train
    released: list[tuple[int, int]] = []

    def spy(start: int, stop: int) -> None:
        released.append((start, stop))
        mapped.release_rows(start, stop)

    spied = ImageSet(mapped.images, mapped.labels, release_rows=spy)
    lat = encode_images(model, spied, batch_size=500)
    assert released == [(0, 500), (500, 1000), (1000, 1294)]
    # the same codes as one float conversion of the in-memory split, encoded in one batch
    with torch.no_grad():
        mu, logvar = model.encode(digits.train.images.float() / 255.0)
    np.testing.assert_allclose(lat.mu, mu.double().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lat.logvar, logvar.double().numpy(), rtol=1e-5, atol=1e-6)
    assert lat.mu.dtype == np.float64 and lat.mu.shape == (1294, 2)
    # released pages read back from the file unchanged
    assert torch.equal(mapped.images, digits.train.images)


def test_training_from_a_store_sees_pixels_over_255(tmp_path, store):
    # an AE with a learning rate too small to move a float32 weight: the epoch's mean training
    # reconstruction NLL is the saved model's NLL of the training images, computed apart
    cfg = tiny_config("ae", epochs=1, lr=1e-30)
    cfg = replace(cfg, data=DataConfig(name="store", data_dir=str(store)))
    train(cfg, tmp_path / "run", progress=False)
    run = va.load_run(tmp_path / "run")
    x = load_store(store).train.images.double() / 255.0  # (N, 1, 8, 8)
    with torch.no_grad():
        z, _ = run.model.encode(x.float())
        nll = -run.model.log_px_given_z(x.float(), z).double()
    assert run.metrics[1]["train_recon"] == pytest.approx(float(nll.mean()), rel=1e-5)


def test_subsets_of_a_mapped_split_hand_their_pages_back(store):
    mapped = load_store(store).train
    released: list[tuple[int, int]] = []

    def spy(start: int, stop: int) -> None:
        released.append((start, stop))
        mapped.release_rows(start, stop)

    spied = ImageSet(mapped.images, mapped.labels, release_rows=spy)
    index = torch.arange(1293, 0, -3)  # 431 rows, last to first
    gathered = spied.subset(index)
    # copied 256 rows at a time, each piece's span of rows handed back
    assert released == [(528, 1294), (3, 526)]
    assert gathered.release_rows is None
    assert torch.equal(gathered.images, load_store(store).train.images[index])
    assert torch.equal(spied.subset(torch.arange(1294) % 2 == 0).images, mapped.images[::2])
    released.clear()
    view = spied.subset(slice(100, 600))
    list(view.chunks(250))
    assert released == [(100, 350), (350, 600)]  # a view releases its own rows
