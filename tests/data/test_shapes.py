"""Procedural shapes: determinism, factor grids, rendering inside the frame."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_atlas.data import DataError, load_shapes
from vae_atlas.data.shapes import (
    SHAPES_CLASS_NAMES,
    SHAPES_FACTOR_NAMES,
    SHAPES_FACTOR_SIZES,
    SHAPES_FACTOR_VALUES,
    render_shapes,
)


def test_factor_grids():
    assert SHAPES_FACTOR_NAMES == ("shape", "scale", "rotation", "x", "y")
    assert SHAPES_FACTOR_SIZES == (3, 6, 40, 32, 32)
    assert SHAPES_FACTOR_VALUES[1][0] == 0.5 and SHAPES_FACTOR_VALUES[1][-1] == 1.0
    assert min(SHAPES_FACTOR_VALUES[2]) >= 0.0 and max(SHAPES_FACTOR_VALUES[2]) < 2 * math.pi
    assert SHAPES_FACTOR_VALUES[3][0] == 0.0 and SHAPES_FACTOR_VALUES[3][-1] == 1.0


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_dtypes_and_names(size):
    ds = load_shapes(image_size=size, n_samples=300, test_fraction=0.2, seed=0)
    assert ds.name == "shapes"
    assert len(ds.train) + len(ds.test) == 300
    assert len(ds.test) == 60
    assert ds.image_shape == (1, size, size)
    assert ds.train.images.dtype == torch.uint8
    assert set(torch.unique(ds.train.images).tolist()) <= {0, 255}
    assert ds.train.labels.dtype == torch.int64
    assert ds.train.factors.dtype == torch.float32
    assert ds.train.factors.shape == (240, 5)
    assert ds.class_names == SHAPES_CLASS_NAMES == ("square", "ellipse", "heart")
    assert ds.factor_names == SHAPES_FACTOR_NAMES
    assert torch.equal(ds.train.labels, ds.train.factors[:, 0].long())


def test_factor_values_lie_on_their_grids():
    ds = load_shapes(image_size=32, n_samples=2000, seed=3)
    factors = torch.cat([ds.train.factors, ds.test.factors]).numpy()
    for column, values in enumerate(SHAPES_FACTOR_VALUES):
        grid = np.asarray(values, dtype=np.float32)
        nearest = np.abs(factors[:, column, None] - grid[None, :]).min(axis=1)
        assert nearest.max() < 1e-6, SHAPES_FACTOR_NAMES[column]
        # independent uniform draws: with 2000 samples every grid value should show up
        assert len(np.unique(factors[:, column])) == len(values)


def test_same_seed_is_identical_and_other_seeds_differ():
    a = load_shapes(image_size=32, n_samples=200, seed=7)
    b = load_shapes(image_size=32, n_samples=200, seed=7)
    c = load_shapes(image_size=32, n_samples=200, seed=8)
    for split in ("train", "test"):
        for field in ("images", "labels", "factors"):
            assert torch.equal(getattr(getattr(a, split), field), getattr(getattr(b, split), field))
    assert not torch.equal(a.train.images, c.train.images)
    assert not torch.equal(a.train.factors, c.train.factors)


@pytest.mark.parametrize("size", [28, 48, 128, 0])
def test_unsupported_image_size_is_rejected(size):
    with pytest.raises(DataError, match=f"image_size={size}"):
        load_shapes(image_size=size, n_samples=10)


def test_too_few_samples_is_rejected():
    with pytest.raises(DataError, match="n_samples=1"):
        load_shapes(n_samples=1)


@pytest.mark.parametrize("size", [32, 64])
def test_every_image_is_non_empty_and_clear_of_the_border(size):
    ds = load_shapes(image_size=size, n_samples=1000, seed=1)
    images = torch.cat([ds.train.images, ds.test.images])[:, 0]  # (N, S, S)
    assert (images.flatten(1).amax(dim=1) == 255).all()
    border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], dim=1)
    assert (border == 0).all()


_extreme = st.tuples(
    st.sampled_from(range(3)),
    st.sampled_from(SHAPES_FACTOR_VALUES[1]),
    st.sampled_from(SHAPES_FACTOR_VALUES[2]),
    st.sampled_from([0.0, 1.0, *SHAPES_FACTOR_VALUES[3][1:3]]),
    st.sampled_from([0.0, 1.0, *SHAPES_FACTOR_VALUES[4][1:3]]),
)


@settings(max_examples=60, deadline=None)
@given(factors=_extreme, size=st.sampled_from([32, 64]))
def test_shapes_in_corners_are_not_clipped(factors, size):
    image = render_shapes(np.array([factors], dtype=np.float32), image_size=size)[0, 0]
    assert image.max() == 255
    assert not image[0].any() and not image[-1].any()
    assert not image[:, 0].any() and not image[:, -1].any()


def test_factors_move_the_shape_as_described():
    base = np.array([[2, 1.0, 0.0, 0.5, 0.5]], dtype=np.float32)

    def centre_of_mass(row):
        image = render_shapes(np.asarray(row, dtype=np.float32), image_size=64)[0, 0] > 0
        ys, xs = np.nonzero(image)
        return xs.mean(), ys.mean(), image.sum()

    x0, y0, area = centre_of_mass(base)
    x1, _, _ = centre_of_mass(base + [[0, 0, 0, 0.4, 0]])
    _, y1, _ = centre_of_mass(base + [[0, 0, 0, 0, 0.4]])
    _, _, small = centre_of_mass(base - [[0, 0.5, 0, 0, 0]])
    assert x1 > x0 + 10  # x moves right
    assert y1 > y0 + 10  # y moves down (image rows)
    assert small == pytest.approx(area / 4, rel=0.15)  # half the scale, a quarter of the area
    # a heart is not symmetric under a half turn: rotating by π changes the image
    upright = render_shapes(base, image_size=64)
    flipped = render_shapes(base + [[0, 0, math.pi, 0, 0]], image_size=64)
    assert not np.array_equal(upright, flipped)
    # ... and equals the upright image turned by 180° (up to rounding at the outline)
    assert np.mean(flipped[0, 0] != upright[0, 0][::-1, ::-1]) < 0.01
