"""The validation split: carved from train, seeded, disjoint from train and test, recorded in
the config (old configs without one load as 'no split')."""

from __future__ import annotations

import json

import pytest
import torch

from vae_atlas.config import ConfigError, DataConfig, RunConfig
from vae_atlas.data import DataError, Dataset, ImageSet, load_dataset, split_validation


def identified(n_train: int, n_test: int, name: str = "ids") -> Dataset:
    """Images whose first two pixels spell their row number, so a split's rows can be named."""

    def images(start: int, n: int) -> torch.Tensor:
        ids = torch.arange(start, start + n)
        x = torch.zeros(n, 1, 2, 2, dtype=torch.uint8)
        x[:, 0, 0, 0], x[:, 0, 0, 1] = (ids // 256).to(torch.uint8), (ids % 256).to(torch.uint8)
        return x

    return Dataset(
        name=name, train=ImageSet(images(0, n_train)), test=ImageSet(images(n_train, n_test))
    )


def ids(part: ImageSet) -> set[int]:
    x = part.images[:, 0, 0].to(torch.int64)  # (N, 2)
    return set((x[:, 0] * 256 + x[:, 1]).tolist())


def test_digits_default_split_sizes_by_hand():
    # 1,797 images: test = round(0.2 * 1797) = 359, train 1,438; validation 10 % = 144
    data = load_dataset(DataConfig(name="digits"))
    assert (len(data.train), len(data.val), len(data.test)) == (1294, 144, 359)


def test_idx_default_holds_out_5000_of_60000():
    data = split_validation(identified(60_000, 10, name="mnist"), val_size=None, seed=0)
    assert (len(data.train), len(data.val)) == (55_000, 5_000)
    fashion = split_validation(identified(60_000, 10, name="fashion-mnist"), val_size=None, seed=0)
    assert len(fashion.val) == 5_000


@pytest.mark.mnist
def test_real_mnist_is_55000_5000_10000(mnist_dir):
    data = load_dataset(DataConfig(name="mnist", data_dir=str(mnist_dir)))
    assert (len(data.train), len(data.val), len(data.test)) == (55_000, 5_000, 10_000)


@pytest.mark.parametrize(
    ("n_train", "val_size", "expected"),
    [(500, None, 50), (40, None, 10), (12, None, 6), (500, 7, 7), (500, 0, 0)],
)
def test_sizes_fraction_minimum_and_explicit(n_train, val_size, expected):
    data = split_validation(identified(n_train, 5), val_size=val_size, seed=3)
    assert len(data.train) == n_train - expected
    assert (0 if data.val is None else len(data.val)) == expected


def test_disjoint_from_train_and_test_and_covers_the_old_train():
    data = identified(300, 50)
    split = split_validation(data, val_size=None, seed=1)
    train, val, test = ids(split.train), ids(split.val), ids(split.test)
    assert len(train) == 270 and len(val) == 30
    assert not train & val and not val & test and not train & test
    assert train | val == set(range(300))


def test_seeded_same_seed_same_split_other_seed_other_split():
    data = identified(300, 50)
    a = split_validation(data, val_size=None, seed=4)
    b = split_validation(data, val_size=None, seed=4)
    c = split_validation(data, val_size=None, seed=5)
    assert ids(a.val) == ids(b.val)
    assert torch.equal(a.train.images, b.train.images)
    assert ids(a.val) != ids(c.val)
    # a random 30 of 300, not the first or last rows
    assert ids(a.val) != set(range(30)) and ids(a.val) != set(range(270, 300))


def test_splitting_twice_keeps_the_split():
    once = split_validation(identified(300, 50), val_size=None, seed=2)
    assert split_validation(once, val_size=None, seed=2) is once
    with pytest.raises(DataError, match="val_size"):
        split_validation(once, val_size=5, seed=2)


def test_val_size_not_below_train_names_the_field():
    with pytest.raises(DataError, match=r"data\.val_size=300 .* 300 training images"):
        split_validation(identified(300, 5), val_size=300, seed=0)
    with pytest.raises(ConfigError, match=r"data\.val_size"):
        DataConfig(val_size=-1)


def test_config_records_the_split_and_old_configs_load_without_one():
    cfg = RunConfig(data=DataConfig(val_size=123, seed=9))
    assert RunConfig.from_json(cfg.to_json()).data.val_size == 123
    old = json.loads(RunConfig().to_json())
    old["schema_version"] = 1
    del old["data"]["val_size"]
    loaded = RunConfig.from_dict(old)
    assert loaded.data.val_size == 0  # it trained on all of train
    assert load_dataset(loaded.data).val is None
