"""The loop's held-out numbers against an independent computation on the saved model: the
per-epoch −ELBO against :func:`neg_elbo_per_image`, and the test set a dynamically binarised run
is scored on against the one ``vae-atlas evaluate`` scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.analysis.evaluation import EvaluationSettings, evaluate_run, select_images
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.training import binarization_seed, heldout_sets

from ..conftest import make_blobs_dataset
from ..tiny_runs import tiny_config, train_quietly

BLOBS = make_blobs_dataset(n=2048)


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory) -> va.Run:
    # the blobs' classes differ a lot, so the codes carry information (KL of a few nats, σ well
    # below 1) and the noise of z matters to the held-out reconstruction
    out = tmp_path_factory.mktemp("heldout") / "vae"
    return va.load_run(train_quietly(tiny_config(epochs=4, lr=1e-2), out, dataset=BLOBS))


def test_loop_heldout_neg_elbo_matches_an_independent_estimate(vae_run):
    last = vae_run.metrics[-1]
    assert last["test_kl"] > 1.0  # else the check below could not tell a noisy z from μ
    per_image = neg_elbo_per_image(vae_run.model, BLOBS.test, n_samples=64, seed=5)
    # one z per image in the loop vs 64 here: agree within the loop's Monte-Carlo error
    assert last["test_neg_elbo"] == pytest.approx(float(per_image.mean()), rel=0.01)
    assert last["test_neg_elbo"] == pytest.approx(last["test_recon"] + last["test_kl"], rel=1e-9)


def test_training_and_evaluation_binarise_the_same_test_set(tmp_path):
    """A plain AE scores deterministically, so the loop's test reconstruction NLL and the
    evaluation's are the same number exactly when both see the same binary images."""
    cfg = tiny_config("ae", epochs=2, dynamic_binarization=True, seed=4)
    run = va.load_run(train_quietly(cfg, tmp_path / "ae"))
    result = evaluate_run(run, settings=EvaluationSettings(k=1, max_test_images=None))
    assert result.binarized and result.n_test == len(run.dataset.test)
    assert result.recon_nll == pytest.approx(run.metrics[-1]["test_recon"], rel=1e-6)
    # and the images really are binary and drawn from the grey levels (not thresholded)
    grey = run.dataset.test.float_images()
    assert not np.isin(grey.numpy(), [0.0, 1.0]).all()


def test_loop_and_evaluate_hold_the_same_binary_test_bytes():
    """The held-out test batch training scores and the one ``evaluate`` scores are one set of
    bytes (the seed of each from its run config, never passed by hand)."""
    cfg = tiny_config(epochs=1, dynamic_binarization=True, seed=9)
    data = va.load_dataset(cfg.data)
    loop_test = heldout_sets(data, cfg.train, torch.device("cpu")).test
    seed = binarization_seed(cfg.train, "test")
    evaluated, _ = select_images(data.test, None, 0, seed)
    assert loop_test.dtype == evaluated.dtype == torch.float32
    assert loop_test.numpy().tobytes() == evaluated.numpy().tobytes()
    # a subset (evaluate --quick) is a subset of those very images
    subset, _ = select_images(data.test, 50, 0, seed)
    assert any(torch.equal(subset[0], row) for row in loop_test)
    assert set(loop_test.unique().tolist()) == {0.0, 1.0}
