"""Anomaly scores: the negative ELBO of each input (Kingma & Welling 2014; An & Cho 2015), the
most and least typical inputs, and — with a second, out-of-distribution dataset mixed in — the
ROC AUC of the score for telling the two apart (Nalisnick et al. 2019 warn that it can be < 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnomalyRanking:
    """Scores (N,) in nats and the indices of the ``k`` highest (``most``, descending) and lowest
    (``least``, ascending) scores."""

    scores: np.ndarray
    most: np.ndarray
    least: np.ndarray


@dataclass(frozen=True)
class OODResult:
    """How well the score separates ``scores_out`` (N_out,) from ``scores_in`` (N_in,):
    the ROC curve (``fpr``, ``tpr``) and its area ``auc`` (1 = perfect, 0.5 = chance)."""

    name: str
    scores_in: np.ndarray
    scores_out: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float


def rank_anomalies(scores: np.ndarray, *, k: int = 8) -> AnomalyRanking:
    """Rank inputs by score (higher = more anomalous)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError("expected a non-empty vector of scores")
    order = np.argsort(scores, kind="stable")
    k = min(k, scores.size)
    return AnomalyRanking(scores, order[::-1][:k].copy(), order[:k].copy())


def ood_separation(
    scores_in: np.ndarray, scores_out: np.ndarray, *, name: str = "ood"
) -> OODResult:
    """ROC of "score > threshold means out-of-distribution"."""
    from sklearn.metrics import roc_auc_score, roc_curve

    scores_in, scores_out = np.asarray(scores_in, np.float64), np.asarray(scores_out, np.float64)
    if scores_in.size == 0 or scores_out.size == 0:
        raise ValueError("both score sets must be non-empty")
    y = np.concatenate([np.zeros(scores_in.size), np.ones(scores_out.size)])
    s = np.concatenate([scores_in, scores_out])
    fpr, tpr, _ = roc_curve(y, s)
    return OODResult(name, scores_in, scores_out, fpr, tpr, float(roc_auc_score(y, s)))
