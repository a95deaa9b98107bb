import numpy as np
import pytest

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.attributes import (
    apply_direction,
    class_direction,
    clear_example,
    direction_from_mask,
    read_attribute_csv,
    within_class_direction,
)


def test_class_direction_is_the_difference_of_class_means():
    mu = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0], [9.0, 9.0]])
    labels = np.array([4, 4, 9, 9, 1])
    d = class_direction(mu, labels, 4, 9)
    np.testing.assert_allclose(d.vector, [-1.0, 5.0])
    assert (d.n_with, d.n_without) == (2, 2)


def test_apply_direction_moves_the_code_linearly():
    model = make_model(2)
    direction = direction_from_mask(np.array([[1.0, 0], [3.0, 0]]), np.array([False, True]), "x")
    edit = apply_direction(
        model, direction, np.zeros(2), np.zeros((1, 1, 6)), alphas=np.array([0.0, 1.0])
    )
    w, b = model.w.detach().numpy(), model.b.detach().numpy()
    np.testing.assert_allclose(edit.images[1].ravel(), np.array([2.0, 0]) @ w.T + b, rtol=1e-5)
    np.testing.assert_allclose(edit.images[0].ravel(), b, rtol=1e-5, atol=1e-6)


def test_mask_needs_both_groups():
    with pytest.raises(ValueError, match="both"):
        direction_from_mask(np.zeros((3, 2)), np.ones(3, bool), "smile")


def test_read_attribute_csv_in_order_and_by_index(tmp_path):
    plain = tmp_path / "a.csv"
    plain.write_text("smile,glasses\n1,no\n0,yes\ntrue,no\n")
    np.testing.assert_array_equal(read_attribute_csv(plain, "smile", 3), [True, False, True])
    indexed = tmp_path / "b.csv"
    indexed.write_text("index,smile\n2,1\n0,0\n1,0\n")
    np.testing.assert_array_equal(read_attribute_csv(indexed, "smile", 3), [False, False, True])
    with pytest.raises(ValueError, match="no column"):
        read_attribute_csv(plain, "hat", 3)
    with pytest.raises(ValueError, match="have no"):
        read_attribute_csv(plain, "smile", 4)
    bad = tmp_path / "c.csv"
    bad.write_text("smile\nmaybe\n")
    with pytest.raises(ValueError, match="yes/no"):
        read_attribute_csv(bad, "smile", 1)


def test_within_class_direction_removes_the_class_mix_of_the_attribute():
    # codes = class offset + 1.0 along dim 1 when "bold"; 90 % of the 0s are bold, 10 % of the 7s
    labels = np.repeat([0, 7], 100)
    bold = np.r_[np.arange(100) < 90, np.arange(100) < 10]
    mu = np.where(labels[:, None] == 0, [5.0, 0.0], [-5.0, 0.0]) + bold[:, None] * [0.0, 1.0]
    plain = direction_from_mask(mu, bold, "bold")
    within = within_class_direction(mu, bold, labels, "bold")
    np.testing.assert_allclose(within.vector, [0.0, 1.0], atol=1e-12)
    assert abs(plain.vector[0]) > 5  # the plain difference drags a 7 towards the 0s
    assert (within.n_with, within.n_without) == (100, 100)


def test_within_class_direction_needs_a_class_with_both_groups():
    labels = np.repeat([0, 1], 5)
    with pytest.raises(ValueError, match="no class"):
        within_class_direction(np.zeros((10, 2)), labels == 1, labels, "x")


def test_clear_example_is_the_source_input_that_reconstructs_least_like_the_target():
    model = make_model(2, data_dim=6)
    w, b = model.w.detach().numpy(), model.b.detach().numpy()
    # class 4's codes: one far on the 4 side (index 3), one near the 9s (index 1), one between
    mu = np.array([[1.5, 0.0], [2.6, 0.0], [3.0, 0.0], [-2.0, 0.0], [1.0, 0.0]])
    labels = np.array([4, 4, 9, 4, 9])
    images = (np.array([[0.0, 0], [2.5, 0], [3.0, 0], [-2.0, 0], [3.2, 0]]) @ w.T + b).reshape(
        5, 1, 1, 6
    )
    assert clear_example(model, mu, images, labels, 4, 9) == 3


def test_within_class_direction_weights_classes_as_a_regression_with_class_effects():
    # class 0: effect 1 on a 50/50 split (weight 50·50/100 = 25); class 1: effect 3 on a 90/10
    # split (weight 90·10/100 = 9): the fixed-effects regression slope is (25·1 + 9·3) / 34
    labels = np.repeat([0, 1], 100)
    bold = np.r_[np.arange(100) < 50, np.arange(100) < 90]
    effect = np.where(labels == 0, 1.0, 3.0)
    mu = np.stack([bold * effect, np.zeros(200)], axis=1)
    within = within_class_direction(mu, bold, labels, "bold")
    np.testing.assert_allclose(within.vector, [52.0 / 34.0, 0.0], rtol=1e-12)
