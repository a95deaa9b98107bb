"""scikit-learn's 8x8 digits, the offline default dataset."""

from __future__ import annotations

import torch

from vae_atlas.data import load_digits


def test_digits_shapes_and_dtypes():
    ds = load_digits(test_fraction=0.2, seed=0)
    assert ds.name == "digits"
    assert ds.image_shape == (1, 8, 8)
    assert len(ds.train) + len(ds.test) == 1797
    assert len(ds.test) == round(1797 * 0.2)
    for split in (ds.train, ds.test):
        assert split.images.dtype == torch.uint8
        assert split.images.shape[1:] == (1, 8, 8)
        assert split.labels.dtype == torch.int64
        assert split.factors is None
    labels = torch.cat([ds.train.labels, ds.test.labels])
    assert labels.min() == 0 and labels.max() == 9
    assert torch.bincount(labels).min() > 170  # roughly 180 of each digit
    assert ds.class_names == tuple(str(d) for d in range(10))
    images = torch.cat([ds.train.images, ds.test.images])
    assert images.min() == 0 and images.max() == 255  # 0..16 rescaled to the uint8 range


def test_digits_split_is_deterministic_and_seeded():
    a = load_digits(seed=1)
    b = load_digits(seed=1)
    c = load_digits(seed=2)
    assert torch.equal(a.train.images, b.train.images)
    assert torch.equal(a.test.labels, b.test.labels)
    assert not torch.equal(a.train.images, c.train.images)
    # different splits of the same 1797 images
    assert torch.equal(
        torch.cat([a.train.labels, a.test.labels]).sort().values,
        torch.cat([c.train.labels, c.test.labels]).sort().values,
    )
