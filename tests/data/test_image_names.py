"""Each image keeps the name of the file it came from through loading, splitting and subsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas.data import ImageSet
from vae_atlas.data.dataset import DataError
from vae_atlas.data.folder import load_folder


def write_numbered_folder(root, n_per_class: int = 6) -> dict[str, int]:
    """Two class folders of 8x8 grey PNGs, each filled with its own grey level; returns the
    level of every relative path."""
    levels = {}
    for c, cls in enumerate(("cats", "dogs")):
        (root / cls).mkdir(parents=True)
        for k in range(n_per_class):
            level = 10 + 20 * (c * n_per_class + k)
            Image.fromarray(np.full((8, 8), level, np.uint8)).save(root / cls / f"img{k}.png")
            levels[f"{cls}/img{k}.png"] = level
    return levels


def test_folder_images_carry_their_relative_paths(tmp_path) -> None:
    levels = write_numbered_folder(tmp_path / "pics")
    data = load_folder(tmp_path / "pics", image_size=8, channels=1, test_fraction=0.25)
    for split in (data.train, data.test):
        assert split.names is not None and len(split.names) == len(split)
        for image, name in zip(split.images, split.names, strict=True):
            # the pixels are the file's own grey level: the name points at the right file
            assert int(image.float().mean().round()) == levels[name]
    assert sorted(data.train.names + data.test.names) == sorted(levels)
    labels = data.test.labels.tolist()
    assert [n.split("/")[0] for n in data.test.names] == [data.class_names[c] for c in labels]


def test_subsets_keep_names_in_step_with_the_images() -> None:
    images = torch.arange(5, dtype=torch.uint8).reshape(5, 1, 1, 1)
    whole = ImageSet(images, names=("a", "b", "c", "d", "e"))
    assert whole.subset(slice(1, 4)).names == ("b", "c", "d")
    assert whole.subset(torch.tensor([4, 0])).names == ("e", "a")
    assert whole.subset(torch.tensor([True, False, True, False, False])).names == ("a", "c")
    with pytest.raises(DataError, match="names has 2 entries but there are 5 images"):
        ImageSet(images, names=("a", "b"))
