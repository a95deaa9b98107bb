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
    disentanglement_scores,
    factor_vae_score,
    mig,
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
