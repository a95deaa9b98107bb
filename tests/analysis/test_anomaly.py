import numpy as np
import pytest

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.anomaly import (
    ood_separation,
    rank_anomalies,
    reconstruction_errors,
    typicality,
)


def test_ranking_orders_by_score():
    ranking = rank_anomalies(np.array([3.0, 1.0, 5.0, 2.0]), k=2)
    assert ranking.most.tolist() == [2, 0]
    assert ranking.least.tolist() == [1, 3]


def test_auc_is_one_for_separated_scores_and_half_for_identical_ones():
    assert ood_separation(np.arange(10.0), np.arange(10.0) + 100).auc == 1.0
    assert ood_separation(np.arange(10.0) + 100, np.arange(10.0)).auc == 0.0
    same = ood_separation(np.ones(20), np.ones(20))
    assert same.auc == pytest.approx(0.5)
    assert same.fpr[0] == 0 and same.tpr[-1] == 1


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError):
        rank_anomalies(np.array([]))
    with pytest.raises(ValueError):
        ood_separation(np.array([]), np.ones(3))


def test_reconstruction_error_is_zero_on_the_decoder_range_and_the_orthogonal_part_off_it():
    model = make_model(2, data_dim=6)
    model.b.data.zero_()  # the encoder inverts the decoder exactly when there is no bias
    w = model.w.detach().numpy()
    z = np.random.default_rng(0).standard_normal((5, 2))
    on = (z @ w.T + model.b.detach().numpy()).reshape(5, 1, 1, 6)
    off_dir = np.linalg.svd(w)[0][:, -1]  # unit vector orthogonal to the decoder's columns
    errors = reconstruction_errors(
        model, np.concatenate([on, on + 0.5 * off_dir.reshape(1, 1, 1, 6)])
    )
    np.testing.assert_allclose(errors.scores[:5], 0.0, atol=1e-8)
    np.testing.assert_allclose(errors.scores[5:], 0.25, rtol=1e-4)  # ‖0.5 v‖² for a unit v
    np.testing.assert_allclose(
        errors.maps[5:].ravel(), np.tile(0.5 * np.abs(off_dir), 5), rtol=1e-4
    )


def test_typicality_flags_both_tails():
    reference = np.array([9.0, 10.0, 11.0])  # mean 10
    np.testing.assert_allclose(typicality(np.array([10.0, 4.0, 13.0]), reference), [0.0, 6.0, 3.0])
