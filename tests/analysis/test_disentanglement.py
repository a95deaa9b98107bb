"""Disentanglement scores on synthetic codes whose answer is known.

codes = factors (+ tiny noise) must score near-perfectly; a random rotation of the same codes
(equally informative, but every dimension mixes every factor) must score clearly lower; codes
independent of the factors must score near chance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_atlas.analysis.disentanglement import (
    ShapesOracle,
    beta_vae_score,
    dci,
    dci_weighted_score,
    disentanglement_scores,
    factor_vae_score,
    mig,
    mig_per_factor,
    sample_factor_index,
    sap,
)
from vae_atlas.config import ModelConfig
from vae_atlas.data.shapes import SHAPES_FACTOR_SIZES
from vae_atlas.models import build_model

SIZES = (3, 6, 10, 8, 8)


class SyntheticOracle:
    """Codes = factor indices scaled to [0, 1] (+ noise), optionally rotated or replaced."""

    def __init__(self, mode: str, sizes: tuple[int, ...] = SIZES, seed: int = 0) -> None:
        self.factor_sizes = sizes
        self.mode = mode
        self.rng = np.random.default_rng(seed)
        self.rotation = np.linalg.qr(self.rng.standard_normal((len(sizes), len(sizes))))[0]

    def represent(self, factor_index: np.ndarray) -> np.ndarray:
        codes = factor_index / (np.array(self.factor_sizes) - 1.0)
        if self.mode == "rotated":
            codes = codes @ self.rotation
        elif self.mode == "random":
            codes = self.rng.standard_normal(codes.shape)
        return codes + 1e-3 * self.rng.standard_normal(codes.shape)


def _codes(mode: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    oracle = SyntheticOracle(mode)
    f = sample_factor_index(SIZES, n, np.random.default_rng(seed))
    return oracle.represent(f), f


@pytest.fixture(scope="module")
def observational():
    out = {}
    for mode in ("identity", "rotated", "random"):
        (c_tr, f_tr), (c_te, f_te) = _codes(mode, 1000, 0), _codes(mode, 500, 1)
        d = dci(c_tr, f_tr, c_te, f_te, n_trees=25)
        out[mode] = {
            "mig": mig(c_tr, f_tr),
            "dci_d": d.disentanglement,
            "dci_c": d.completeness,
            "dci_i": d.informativeness,
            "sap": sap(c_tr, f_tr, c_te, f_te),
        }
    return out


@pytest.mark.parametrize("score", ["beta_vae", "factor_vae"])
def test_intervention_scores(score):
    fn = beta_vae_score if score == "beta_vae" else factor_vae_score
    got = {
        mode: fn(SyntheticOracle(mode), np.random.default_rng(0), n_train=300, n_eval=200)
        for mode in ("identity", "rotated", "random")
    }
    assert got["identity"] > 0.97
    assert got["rotated"] < got["identity"] - 0.15
    assert got["random"] < 0.4  # chance is 1/5


def test_mig(observational):
    # Binning 10 factor values into 20 bins loses nothing; sizes 3..10 are all below 20.
    assert observational["identity"]["mig"] > 0.9
    assert observational["rotated"]["mig"] < 0.5
    assert observational["random"]["mig"] < 0.05


def test_dci(observational):
    ident, rot, rand = (observational[m] for m in ("identity", "rotated", "random"))
    assert ident["dci_d"] > 0.9 and ident["dci_c"] > 0.9 and ident["dci_i"] > 0.95
    assert rot["dci_d"] < 0.5 and rot["dci_c"] < 0.5
    assert rand["dci_i"] < 0.5


def test_sap(observational):
    # A linear SVM on one code separates few of a factor's many ordinal classes, so SAP is small
    # in absolute terms even for perfect codes; the ordering is what it measures.
    ident, rot, rand = (observational[m]["sap"] for m in ("identity", "rotated", "random"))
    assert ident > rot + 0.05
    assert rand < 0.05


def test_mig_needs_two_codes():
    with pytest.raises(ValueError, match="two"):
        mig(np.zeros((10, 1)), np.zeros((10, 2), dtype=int))


def test_all_scores_and_the_shapes_oracle():
    cfg = ModelConfig(family="mlp", image_shape=(1, 32, 32), latent_dim=4, hidden=(16,))
    torch.manual_seed(0)
    oracle = ShapesOracle(build_model(cfg).eval(), image_size=32)
    assert oracle.factor_sizes == SHAPES_FACTOR_SIZES
    codes = oracle.represent(sample_factor_index(SHAPES_FACTOR_SIZES, 10, np.random.default_rng(0)))
    assert codes.shape == (10, 4)
    scores = disentanglement_scores(SyntheticOracle("identity"), n_points=300, n_votes=100)
    values = scores.to_dict()
    assert set(values) >= {"beta_vae", "factor_vae", "mig", "dci_disentanglement", "sap"}
    assert all(0.0 <= values[k] <= 1.0 for k in ("beta_vae", "factor_vae", "mig", "sap"))


class MixedPairOracle:
    """Two factors of equal size coded as (x + y, x − y) / √2: a 45° turn of perfect codes.

    Swapping y ↦ 7 − y maps x + y to x − y + 7, so both codes carry exactly the same information
    about each factor: no code is more "about x" than the other. MIG's gap, DCI's
    disentanglement and SAP's gap are then 0, and the FactorVAE vote is a coin flip (both codes
    keep half the spread of the unfixed factor), chance being 1/2 for two factors.
    """

    factor_sizes = (8, 8)

    def __init__(self, turned: bool, seed: int = 0) -> None:
        self.turned = turned
        self.rng = np.random.default_rng(seed)

    def represent(self, factor_index: np.ndarray) -> np.ndarray:
        x, y = factor_index.T / 7.0
        codes = np.stack([x + y, x - y] if self.turned else [x, y], axis=1) / np.sqrt(2.0)
        return codes + 1e-3 * self.rng.standard_normal(codes.shape)


def test_scores_are_one_for_separate_codes_and_zero_for_codes_mixed_at_45_degrees():
    scores = {}
    for turned in (False, True):
        oracle = MixedPairOracle(turned)
        f_tr, f_te = (sample_factor_index((8, 8), n, np.random.default_rng(n)) for n in (1000, 500))
        c_tr, c_te = oracle.represent(f_tr), oracle.represent(f_te)
        d = dci(c_tr, f_tr, c_te, f_te, n_trees=10)
        rng = np.random.default_rng(0)
        scores[turned] = {
            "mig": mig(c_tr, f_tr),
            "dci_d": d.disentanglement,
            "dci_c": d.completeness,
            "dci_i": d.informativeness,
            "sap": sap(c_tr, f_tr, c_te, f_te),
            "factor_vae": factor_vae_score(oracle, rng, n_train=300, n_eval=300),
        }
    separate, mixed = scores[False], scores[True]
    assert separate["mig"] > 0.95 and separate["dci_d"] > 0.95 and separate["dci_c"] > 0.95
    assert separate["factor_vae"] == 1.0 and separate["dci_i"] > 0.99
    assert separate["sap"] > 0.1  # one SVM threshold per code: small, but well above 0
    assert mixed["mig"] < 0.03 and mixed["dci_d"] < 0.05 and mixed["dci_c"] < 0.05
    assert mixed["sap"] < 0.06  # two equal accuracies, measured on 500 points each
    assert 0.4 < mixed["factor_vae"] < 0.6
    assert mixed["dci_i"] > 0.95  # as informative as the separate codes, only mixed


# -- hand-computed cases: each pins one part of a score's definition ----------------------------
def test_dci_weights_codes_by_their_share_of_the_total_importance():
    """Importance R (3 codes x 2 factors) = [[3, 0], [1, 1], [0, 0]], total 5.

    Disentanglement: code 0 points at one factor (1 − H = 1), code 1 splits evenly (1 − H = 0),
    code 2 has no importance; weights ρ = (3/5, 2/5, 0), so D = 3/5 (uniform weights: 1/3;
    weights not divided by the total: 3). Completeness: factor 0 comes from codes 0 and 1 as
    (3/4, 1/4, 0), entropy in base 3; factor 1 from code 1 alone; weights (4/5, 1/5).
    """
    importance = np.array([[3.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    h_factor0 = (0.75 * np.log(4 / 3) + 0.25 * np.log(4)) / np.log(3)
    assert dci_weighted_score(importance) == pytest.approx(0.6, abs=1e-6)
    completeness = 0.8 * (1 - h_factor0) + 0.2 * 1
    assert dci_weighted_score(importance.T) == pytest.approx(completeness, abs=1e-6)


def test_dci_of_a_code_that_serves_two_factors():
    """Factor 0 is read off code 0, factors 1 and 2 (a copy of 1) off code 1; code 2 is noise.

    Every split a tree makes is a perfect one on the factor's own code, so the importance matrix
    is exactly [[1, 0, 0], [0, 1, 1], [0, 0, 0]]: code 0 is pure, code 1 spreads evenly over two
    of three factors (1 − H_3 = 1 − ln 2 / ln 3) and holds twice code 0's importance, so
    D = 1/3 + 2/3 (1 − ln 2 / ln 3); every factor comes from one code, so C = 1.
    """
    rng = np.random.default_rng(0)
    f = rng.integers(0, 4, (1200, 2))
    factors = np.stack([f[:, 0], f[:, 1], f[:, 1]], axis=1)  # (N, 3)
    codes = np.stack([f[:, 0], f[:, 1], rng.standard_normal(1200)], axis=1).astype(float)
    d = dci(codes[:800], factors[:800], codes[800:], factors[800:], n_trees=5)
    assert d.importance == pytest.approx(np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]]), abs=1e-9)
    assert d.disentanglement == pytest.approx(1 - (2 / 3) * np.log(2) / np.log(3), abs=1e-6)
    assert d.completeness == pytest.approx(1.0, abs=1e-6)
    assert d.informativeness == 1.0


def _sap_design() -> tuple[np.ndarray, np.ndarray]:
    """80 points indexed i = 16q + 4r + s: f0 = s mod 2, f1 = s // 2 and two flips, one in 4
    (r = 0) and one in 5 (q = 0), all exactly independent and balanced. Codes: f0 itself; f0
    flipped 1 time in 4; f1 flipped 1 time in 5 (each code ±10, so a single threshold at 0 is
    the SVM's best rule)."""
    i = np.arange(80)
    f0, f1 = i % 2, (i // 2) % 2
    flip_a, flip_b = (i // 4) % 4 == 0, i // 16 == 0
    bits = np.stack([f0, f0 ^ flip_a, f1 ^ flip_b], axis=1)  # (80, 3)
    return 10.0 * (2.0 * bits - 1.0), np.stack([f0, f1], axis=1)


def test_sap_is_the_gap_between_the_two_best_codes_of_each_factor():
    """Accuracies (codes x factors): f0 from codes 0, 1, 2: 1.0, 0.75, 0.5; f1: 0.5, 0.5, 0.8
    (a code independent of a balanced factor scores 0.5 whatever it predicts). Gaps: f0 1.0 −
    0.75, f1 0.8 − 0.5, so SAP = (0.25 + 0.3) / 2 = 0.275 (top minus bottom: 0.4; the top two
    over all pairs, not per factor: 0.2)."""
    codes, factors = _sap_design()
    assert sap(codes, factors, codes, factors) == pytest.approx(0.275, abs=1e-12)


class ScaledCodesOracle:
    """Two factors of 8 values; code 0 = 100 (f0 + 0.3 ε), code 1 = f1 + 0.3 ε (ε ~ N(0, 1)).

    Fixing f0 leaves code 0 a variance of 100² · 0.09 = 900 against code 1's var(f1) = 63/12 =
    5.25, so raw variances would send that vote to code 1; divided by each code's variance over
    the data (100² · 5.34 and 5.34) code 0 keeps 0.09 / 5.34 ≈ 0.017 of its spread and code 1
    all of it. With the normalisation every vote is right (score 1.0); without it code 1 wins
    every vote and the majority classifier is right about half the time.
    """

    factor_sizes = (8, 8)

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def represent(self, factor_index: np.ndarray) -> np.ndarray:
        noisy = factor_index + 0.3 * self.rng.standard_normal(factor_index.shape)
        return noisy * np.array([100.0, 1.0])


def test_factor_vae_score_divides_by_each_codes_spread_over_the_data():
    oracle = ScaledCodesOracle()
    fixed_f0 = sample_factor_index((8, 8), 64, np.random.default_rng(1))
    fixed_f0[:, 0] = 3
    raw = np.var(oracle.represent(fixed_f0), axis=0, ddof=1)
    assert raw[1] < raw[0]  # the premise: by raw variance code 1 would take f0's votes
    score = factor_vae_score(oracle, np.random.default_rng(0), n_train=200, n_eval=200)
    assert score == 1.0


def test_mig_per_factor_and_its_mean_over_the_factors_that_vary():
    """f0 (two values) is code 0 itself: gap log 2 / log 2 = 1. f1 (four values) is only told
    {0, 1} from {2, 3} by code 1: gap log 2 / log 4 = 1/2. f2 never varies: NaN, left out of
    the mean, so MIG = (1 + 1/2) / 2."""
    i = np.arange(800)
    factors = np.stack([i % 2, (i // 2) % 4, np.zeros_like(i)], axis=1)  # (800, 3)
    codes = np.stack([factors[:, 0], factors[:, 1] // 2], axis=1).astype(float)
    gaps = mig_per_factor(codes, factors)
    assert gaps[:2] == pytest.approx([1.0, 0.5], abs=1e-12) and np.isnan(gaps[2])
    assert mig(codes, factors) == pytest.approx(0.75, abs=1e-12)
