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
    shape_factor_index,
    shape_factor_values,
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


def _centroid(row: list[float], size: int = 64) -> tuple[float, float, int]:
    """Column and row of the shape's centre of mass (pixel indices) and its area in pixels."""
    image = render_shapes(np.asarray([row], dtype=np.float32), image_size=size)[0, 0] > 0
    rows, cols = np.nonzero(image)
    return cols.mean(), rows.mean(), int(image.sum())


def test_position_moves_the_centroid_by_the_documented_pixels():
    # Centres are kept 0.2 + 1/64 of the side from the border: at 64 px the centre of a square
    # (symmetric, so centroid = centre) runs from 0.215625 * 64 - 0.5 = 13.3 to 49.7 (pixel
    # indices), i.e. 36.4 px for x (or y) going from 0 to 1.
    for x, y, col, row in ((0.0, 0.5, 13.3, 31.5), (1.0, 0.5, 49.7, 31.5),
                           (0.5, 0.0, 31.5, 13.3), (0.5, 1.0, 31.5, 49.7)):  # fmt: skip
        got_col, got_row, _ = _centroid([0, 1.0, 0.0, x, y])
        assert got_col == pytest.approx(col, abs=0.3) and got_row == pytest.approx(row, abs=0.3)
    # every step of the 32-value grid moves it 36.4 / 31 = 1.17 px, for any shape
    left, _, _ = _centroid([2, 0.8, 1.0, SHAPES_FACTOR_VALUES[3][10], 0.5])
    right, _, _ = _centroid([2, 0.8, 1.0, SHAPES_FACTOR_VALUES[3][20], 0.5])
    assert right - left == pytest.approx(10 * 36.4 / 31, abs=0.3)


def test_hand_counted_square_and_ellipse():
    # scale-1 square, upright: half side 0.2 / sqrt(2) * 64 = 9.05 px around the centre 32.0,
    # so pixel centres i + 0.5 in [22.95, 41.05]: i = 23..40, 18 x 18 pixels.
    image = render_shapes(np.asarray([[0, 1.0, 0.0, 0.5, 0.5]], np.float32), image_size=64)[0, 0]
    rows, cols = np.nonzero(image)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (23, 40, 23, 40)
    assert (image > 0).sum() == 18 * 18
    # ellipse, semi-axes 12.8 and 6.4 px: area pi * 12.8 * 6.4 = 257.4 px; pixel centres in
    # [19.2, 44.8] across (26 columns) and [25.6, 38.4] down (12 rows) when upright, the
    # other way round after a quarter turn
    for angle, wide in ((0.0, True), (math.pi / 2, False)):
        row = np.asarray([[1, 1.0, angle, 0.5, 0.5]], np.float32)
        mask = render_shapes(row, image_size=64)[0, 0] > 0
        rows, cols = np.nonzero(mask)
        assert mask.sum() == pytest.approx(257.4, rel=0.05)
        width, height = cols.max() - cols.min() + 1, rows.max() - rows.min() + 1
        assert (width, height) == ((26, 12) if wide else (12, 26))


def test_heart_points_down_and_turns_counter_clockwise():
    # Upright: the tip is the single bottom point, on the centre column, and the top row is cut
    # by the notch between the lobes into two runs. A counter-clockwise quarter turn moves the
    # tip to the right, on the centre row.
    upright = render_shapes(np.asarray([[2, 1.0, 0.0, 0.5, 0.5]], np.float32), image_size=64)
    rows, cols = np.nonzero(upright[0, 0])
    assert cols[rows == rows.max()].mean() == pytest.approx(31.5, abs=0.6)
    top = upright[0, 0, rows.min()] > 0
    assert np.count_nonzero(np.diff(top.astype(int)) == 1) == 2  # two separate runs
    turned = render_shapes(np.asarray([[2, 1.0, math.pi / 2, 0.5, 0.5]], np.float32), image_size=64)
    rows, cols = np.nonzero(turned[0, 0])
    assert rows[cols == cols.max()].mean() == pytest.approx(31.5, abs=0.6)
    assert cols.max() - 31.5 > 31.5 - cols.min()  # the tip reaches further than the lobes


def test_factor_indices_and_values_convert_both_ways():
    index = np.array([[2, 5, 10, 31, 0], [0, 0, 39, 0, 31]])
    values = shape_factor_values(index)
    expected = [[2.0, 1.0, math.pi / 2, 1.0, 0.0], [0.0, 0.5, 2 * math.pi * 39 / 40, 0.0, 1.0]]
    np.testing.assert_allclose(values, expected, atol=1e-6)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(shape_factor_index(values), index)
    # values off the grid go to the nearest grid point: x = 0.49 lies nearest 15/31 = 0.4839
    assert shape_factor_index(np.array([[1.0, 0.74, 0.1, 0.49, 0.51]]))[0].tolist() == [
        1,
        2,
        1,
        15,
        16,
    ]
