"""The report's anomaly scores against independent truth: −ELBO is positive for a Bernoulli
decoder, its test mean agrees with the training loop's held-out −ELBO, out-of-distribution noise
scores higher than the test set, and the examples figure shows the extremes in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.analysis.anomaly import rank_anomalies
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.data import ImageSet
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.health_figures import summary_numbers
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import source_from_run
from vae_atlas.viz.anomaly import plot_anomaly_examples

from ..tiny_runs import tiny_config, train_quietly


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return train_quietly(tiny_config(epochs=3), tmp_path_factory.mktemp("anomaly") / "vae")


@pytest.fixture(scope="module")
def ctx(run_dir) -> AtlasContext:
    return AtlasContext(source_from_run(run_dir), ReportOptions(max_points=10_000))


def test_scores_are_the_positive_neg_elbo_the_loop_measured(ctx, run_dir):
    scores = ctx.scores
    assert scores is not None and len(scores) == len(ctx.test)
    # Bernoulli: −log p(x|z) ≥ 0 and KL ≥ 0, so every −ELBO is positive
    assert scores.min() > 0
    heldout = va.load_run(run_dir).metrics[-1]["test_neg_elbo"]
    assert float(scores.mean()) == pytest.approx(heldout, rel=0.03)
    row = next(v for k, v in summary_numbers(ctx).items() if k.startswith("mean −ELBO"))
    assert float(row) == pytest.approx(heldout, rel=0.03)


def test_noise_scores_higher_than_the_test_set(ctx):
    g = torch.Generator().manual_seed(0)
    noise = ImageSet(torch.randint(0, 256, (200, 1, 8, 8), generator=g, dtype=torch.uint8))
    out = neg_elbo_per_image(ctx.source.model, noise)
    assert 0 < float(np.mean(ctx.scores)) < float(np.mean(out))


def test_examples_figure_shows_the_highest_scores_on_top_in_descending_order():
    scores = np.array([3.0, 9.0, 1.0, 7.0, 5.0, 2.0, 8.0])
    images = np.zeros((7, 1, 4, 4), dtype=np.float32)
    r = rank_anomalies(scores, k=3)
    fig = plot_anomaly_examples(images[r.most], scores[r.most], images[r.least], scores[r.least])
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["9.0", "8.0", "7.0", "1.0", "2.0", "3.0"]
