"""The dataset container at hand-computed cases: pixel scaling and the train/test split."""

from __future__ import annotations

import pytest
import torch

from vae_atlas.data.dataset import ImageSet, split_train_test


def test_float_images_map_0_and_255_to_0_and_1():
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).view(3, 1, 1, 1)
    assert ImageSet(images).float_images().flatten().tolist() == pytest.approx([0.0, 0.2, 1.0])


def test_split_is_a_partition_of_the_requested_sizes():
    images = torch.arange(50, dtype=torch.uint8).view(50, 1, 1, 1)  # each image its own value
    labels = torch.arange(50)
    train, test = split_train_test(images, labels, None, test_fraction=0.2, seed=3)
    assert (len(train), len(test)) == (40, 10)
    seen = torch.cat([train.images.flatten(), test.images.flatten()]).long()
    assert sorted(seen.tolist()) == list(range(50))  # disjoint and complete
    assert torch.equal(train.labels, train.images.flatten().long())  # labels stay with images
