"""Disentanglement scores of a representation against known generative factors.

Each score follows its definition in disentanglement_lib (Locatello et al. 2019, "Challenging
Common Assumptions in the Unsupervised Learning of Disentangled Representations"), which is
where the implementations in the literature disagree least:

* β-VAE score (Higgins et al. 2017): pairs of batches sharing one factor; a logistic regression
  predicts which factor was shared from mean |r1 − r2|; score = its held-out accuracy.
* FactorVAE score (Kim & Mnih 2018): batches with one factor fixed; the code dimension with the
  lowest variance (normalised by its global std, dimensions with global std < 0.05 pruned, as in
  disentanglement_lib's ``prune_dims.threshold = 0.05``) votes for that factor; score = held-out
  accuracy of the majority-vote classifier.
* MIG (Chen et al. 2018): each code dimension discretised into 20 equal-width histogram bins;
  discrete mutual information with each factor; mean over factors of the gap between the top two
  dimensions, divided by the factor's entropy.
* DCI (Eastwood & Williams 2018): importance of code d for factor k from a tree-ensemble
  classifier per factor — by default a random forest (Eastwood & Williams' own choice; the
  gradient-boosted trees of disentanglement_lib are available as ``estimator="gbt"`` but are ~50x
  slower on ``shapes``' 113 factor classes); disentanglement = importance-weighted mean over
  codes of 1 − H_K(P_d), completeness = weighted mean over factors of 1 − H_D(P_k),
  informativeness = mean held-out accuracy of those classifiers.
* SAP (Kumar et al. 2018): for every (code, factor) a linear SVM (C = 0.01, balanced classes) on
  that single code predicts the (discrete) factor; score = mean over factors of the gap between
  the best and second-best code's held-out accuracy.

Choices common to all: the representation is the posterior mean (never a sample); factors are
integer indices into each factor's grid (all treated as discrete, as disentanglement_lib does for
dSprites); every random draw comes from one seeded ``numpy.random.Generator``. The number of
points is a parameter; the defaults are smaller than disentanglement_lib's (10,000 / 5,000) to fit
a CPU budget and are recorded in the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.encode import encode_images
from vae_atlas.data.shapes import SHAPES_FACTOR_SIZES, render_shapes, shape_factor_values


class FactorOracle(Protocol):
    """A source of observations with known factors: sample factors, get codes for them."""

    factor_sizes: tuple[int, ...]

    def represent(self, factor_index: np.ndarray) -> np.ndarray:
        """Codes (N, D) (posterior means) of observations generated from factor indices (N, F)."""
        ...


def sample_factor_index(sizes: tuple[int, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """Independent uniform factor indices, int64 (n, F)."""
    return np.stack([rng.integers(0, s, n) for s in sizes], axis=1)


class ShapesOracle:
    """Renders ``shapes`` images from factor indices and encodes them with ``model`` (means)."""

    factor_sizes: tuple[int, ...] = SHAPES_FACTOR_SIZES

    def __init__(self, model: nn.Module, *, image_size: int, chunk: int = 4096) -> None:
        self.model, self.image_size, self.chunk = model, image_size, chunk

    def represent(self, factor_index: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(factor_index), self.chunk):
            values = shape_factor_values(factor_index[start : start + self.chunk])  # (n, 5)
            images = torch.from_numpy(render_shapes(values, image_size=self.image_size))
            out.append(encode_images(self.model, images.float().div_(255.0)).mu)
        return np.concatenate(out)


# -- intervention-based scores (need an oracle) -------------------------------------------------
def beta_vae_score(
    oracle: FactorOracle,
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    n_train: int = 1000,
    n_eval: int = 500,
) -> float:
    """β-VAE score: held-out accuracy of predicting the shared factor from mean |r1 − r2|."""
    from sklearn.linear_model import LogisticRegression

    def points(n: int) -> tuple[np.ndarray, np.ndarray]:
        sizes = oracle.factor_sizes
        labels = rng.integers(0, len(sizes), n)
        f1 = sample_factor_index(sizes, n * batch_size, rng)  # (n·B, F)
        f2 = sample_factor_index(sizes, n * batch_size, rng)
        shared = np.repeat(labels, batch_size)
        f2[np.arange(len(f2)), shared] = f1[np.arange(len(f1)), shared]
        diff = np.abs(oracle.represent(f1) - oracle.represent(f2))  # (n·B, D)
        return diff.reshape(n, batch_size, -1).mean(1), labels  # (n, D)

    x_train, y_train = points(n_train)
    x_eval, y_eval = points(n_eval)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    return float(model.score(x_eval, y_eval))


def factor_vae_score(
    oracle: FactorOracle,
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    n_train: int = 1000,
    n_eval: int = 500,
    n_variance: int = 5000,
    prune_threshold: float = 0.05,
) -> float:
    """FactorVAE score: majority-vote accuracy of (argmin normalised variance) -> fixed factor."""
    sizes = oracle.factor_sizes
    global_var = np.var(oracle.represent(sample_factor_index(sizes, n_variance, rng)), 0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    if not active.any():
        return 0.0

    def votes(n: int) -> np.ndarray:
        labels = rng.integers(0, len(sizes), n)
        f = sample_factor_index(sizes, n * batch_size, rng).reshape(n, batch_size, -1)
        f[np.arange(n), :, labels] = f[np.arange(n), 0, labels][:, None]  # fix one factor
        codes = oracle.represent(f.reshape(n * batch_size, -1)).reshape(n, batch_size, -1)
        local_var = np.var(codes, axis=1, ddof=1)  # (n, D)
        argmin = np.argmin(local_var[:, active] / global_var[active], axis=1)
        table = np.zeros((len(sizes), int(active.sum())), dtype=np.int64)
        np.add.at(table, (labels, argmin), 1)
        return table  # (F, active D)

    train, held_out = votes(n_train), votes(n_eval)
    classifier = np.argmax(train, axis=0)  # each active code -> the factor it votes for most
    return float(held_out[classifier, np.arange(train.shape[1])].sum() / held_out.sum())


# -- observational scores (need samples of codes and factors) ---------------------------------
def _discretize(codes: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width histogram bins per code dimension, as disentanglement_lib: (N, D) ints."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram(codes[:, d], n_bins)[1][:-1]
        out[:, d] = np.digitize(codes[:, d], edges)
    return out


def mutual_information_matrix(
    codes: np.ndarray, factors: np.ndarray, n_bins: int = 20
) -> np.ndarray:
    """Discrete mutual information (nats) between binned codes and factors, (D, F)."""
    from sklearn.metrics import mutual_info_score

    binned = _discretize(codes, n_bins)
    return np.array(
        [
            [mutual_info_score(factors[:, k], binned[:, d]) for k in range(factors.shape[1])]
            for d in range(codes.shape[1])
        ]
    )


def mig_per_factor(codes: np.ndarray, factors: np.ndarray, *, n_bins: int = 20) -> np.ndarray:
    """Each factor's gap between its top two codes' mutual information over the factor's
    entropy, (F,) in [0, 1]; NaN for a factor that never varies."""
    from sklearn.metrics import mutual_info_score

    if codes.shape[1] < 2:
        raise ValueError("MIG needs at least two code dimensions")
    mi = np.sort(mutual_information_matrix(codes, factors, n_bins), axis=0)[::-1]  # (D, F)
    entropy = np.array([mutual_info_score(f, f) for f in factors.T])  # (F,)
    keep = entropy > 0
    return np.where(keep, mi[0] - mi[1], np.nan) / np.where(keep, entropy, 1.0)


def mig(codes: np.ndarray, factors: np.ndarray, *, n_bins: int = 20) -> float:
    """Mutual information gap in [0, 1]: codes (N, D), factor indices (N, F); the mean of
    :func:`mig_per_factor` over the factors that vary."""
    return float(np.nanmean(mig_per_factor(codes, factors, n_bins=n_bins)))


@dataclass(frozen=True)
class DCIScores:
    """Eastwood & Williams (2018) scores and the (D, F) importance matrix they came from."""

    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray


def dci_weighted_score(p: np.ndarray) -> float:
    """Σ_r ρ_r (1 − H_C(P_r)), P_r = row r / its total, ρ_r = row total / grand total, (R, C):
    DCI disentanglement of the (D, F) importance matrix, completeness of its transpose."""
    from scipy.stats import entropy

    per_row = 1.0 - entropy(p.T + 1e-11, base=p.shape[1])
    weights = p.sum(1) / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
    return float(np.sum(per_row * weights))


def dci(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    estimator: str = "forest",
    n_trees: int = 100,
    seed: int = 0,
) -> DCIScores:
    """DCI disentanglement, completeness and informativeness from tree-ensemble importances.

    ``estimator="gbt"`` is disentanglement_lib's choice (``GradientBoostingClassifier()``); it
    fits one tree per class and stage, so on ``shapes`` (3+6+40+32+32 classes) it is ~50x slower
    than ``"forest"``, the default here and one of Eastwood & Williams' (2018) two regressors: an
    ``n_trees``-tree ``RandomForestClassifier`` with impurity importances that considers every
    code at each split (``max_features=None``), so irrelevant codes get no importance by chance.
    """
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    if estimator not in ("forest", "gbt"):
        raise ValueError(f"estimator={estimator!r} is not 'forest' or 'gbt'")
    importance = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    accuracy = []
    for k in range(factors_train.shape[1]):
        model = (
            RandomForestClassifier(
                n_estimators=n_trees, max_features=None, min_samples_leaf=2, random_state=seed
            )
            if estimator == "forest"
            else GradientBoostingClassifier(random_state=seed)
        ).fit(codes_train, factors_train[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        accuracy.append(model.score(codes_test, factors_test[:, k]))
    return DCIScores(
        disentanglement=dci_weighted_score(importance),
        completeness=dci_weighted_score(importance.T),
        informativeness=float(np.mean(accuracy)),
        importance=importance,
    )


def sap(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
) -> float:
    """Separated attribute predictability: mean top-two gap of single-code SVM accuracies."""
    from sklearn.svm import LinearSVC

    scores = np.zeros((codes_train.shape[1], factors_train.shape[1]))  # (D, F)
    for d in range(codes_train.shape[1]):
        for k in range(factors_train.shape[1]):
            clf = LinearSVC(C=0.01, class_weight="balanced")
            clf.fit(codes_train[:, d : d + 1], factors_train[:, k])
            scores[d, k] = np.mean(clf.predict(codes_test[:, d : d + 1]) == factors_test[:, k])
    top = np.sort(scores, axis=0)
    return float(np.mean(top[-1] - top[-2]))


# -- all of them -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DisentanglementScores:
    """All five scores and the sample sizes used (so that numbers are comparable)."""

    beta_vae: float
    factor_vae: float
    mig: float
    dci_disentanglement: float
    dci_completeness: float
    dci_informativeness: float
    sap: float
    n_points: int
    n_votes: int
    seed: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def disentanglement_scores(
    oracle: FactorOracle, *, n_points: int = 4000, n_votes: int = 1000, seed: int = 0
) -> DisentanglementScores:
    """Every score on fresh samples from ``oracle``.

    ``n_points`` samples train MIG/DCI/SAP (and half as many test them); ``n_votes`` training
    votes / points for the β-VAE and FactorVAE scores (half as many held out), batches of 64.
    """
    rng = np.random.default_rng(seed)
    sizes = oracle.factor_sizes
    f_train = sample_factor_index(sizes, n_points, rng)
    f_test = sample_factor_index(sizes, max(n_points // 2, 2), rng)
    c_train, c_test = oracle.represent(f_train), oracle.represent(f_test)
    dci_scores = dci(c_train, f_train, c_test, f_test, seed=seed)
    return DisentanglementScores(
        beta_vae=beta_vae_score(oracle, rng, n_train=n_votes, n_eval=max(n_votes // 2, 1)),
        factor_vae=factor_vae_score(oracle, rng, n_train=n_votes, n_eval=max(n_votes // 2, 1)),
        mig=mig(c_train, f_train),
        dci_disentanglement=dci_scores.disentanglement,
        dci_completeness=dci_scores.completeness,
        dci_informativeness=dci_scores.informativeness,
        sap=sap(c_train, f_train, c_test, f_test),
        n_points=n_points,
        n_votes=n_votes,
        seed=seed,
    )
