"""Anomaly scores: the negative ELBO of each input (Kingma & Welling 2014; An & Cho 2015), the
most and least typical inputs, and — with a second, out-of-distribution dataset mixed in — the
ROC AUC of the score for telling the two apart (Nalisnick et al. 2019 warn that it can be < 0.5).

Two more scores from the literature: the reconstruction error ‖x − x̂‖² (An & Cho 2015; no
likelihood needed, with a per-pixel error map), and the typicality score |s − mean s_ref| of
Nalisnick et al. (2019, "Detecting out-of-distribution inputs to deep generative models using
typicality"): inputs whose −ELBO is far from the in-distribution average in *either* direction
are flagged, which catches the simpler-looking sets a likelihood finds more probable than its
own data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import decode_latents, encode_images


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


@dataclass(frozen=True)
class ReconstructionErrors:
    """Per-input squared reconstruction error ``scores`` (N,) (sum over pixels, pixels in
    [0, 1]) and the per-pixel absolute error ``maps`` (N, H, W), averaged over channels."""

    scores: np.ndarray
    maps: np.ndarray


def reconstruction_errors(model: nn.Module, images: np.ndarray) -> ReconstructionErrors:
    """Encode ``images`` (N, C, H, W) floats in [0, 1], decode the posterior means, compare."""
    x = np.asarray(images, dtype=np.float32)
    recon = decode_latents(model, encode_images(model, torch.as_tensor(x)).mu)  # (N, C, H, W)
    diff = x.astype(np.float64) - recon.astype(np.float64)
    return ReconstructionErrors(np.sum(diff**2, axis=(1, 2, 3)), np.abs(diff).mean(axis=1))


def typicality(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """|score − mean of the in-distribution ``reference`` scores| per input (N,)."""
    return np.abs(np.asarray(scores, np.float64) - float(np.mean(reference)))
