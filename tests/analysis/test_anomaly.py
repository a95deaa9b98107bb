import numpy as np
import pytest

from vae_atlas.analysis.anomaly import ood_separation, rank_anomalies


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
