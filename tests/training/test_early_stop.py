"""Early stopping on the validation −ELBO: the rule on hand-made metric sequences, and a tiny
real run that stops, ends with its best epoch's weights and resumes as stopped."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

import vae_atlas as va
from vae_atlas.config import ConfigError, DataConfig, TrainConfig
from vae_atlas.models.inference import encode_batches
from vae_atlas.training import EarlyStopping, TrainingError, train

from ..tiny_runs import tiny_config


def rows(scores, key="val_neg_elbo"):
    return [{"epoch": i, key: s} for i, s in enumerate(scores)]


def first_stop(rule, scores, key="val_neg_elbo"):
    """The first epoch after which ``rule`` stops (None: never), rows given as training goes."""
    sequence = rows(scores, key)
    return next((i for i in range(1, len(sequence)) if rule(sequence[: i + 1])), None)


def test_stops_patience_epochs_after_the_best():
    # best at epoch 2 (80); epochs 3, 4, 5 do not beat it, so patience 3 stops after epoch 5
    scores = [100.0, 90.0, 80.0, 85.0, 82.0, 81.0, 79.0]
    rule = EarlyStopping(3)
    assert first_stop(rule, scores) == 5
    assert rule.best_epoch(rows(scores[:6])) == 2
    assert first_stop(EarlyStopping(4), scores) is None  # epoch 6 improves in time


def test_an_equal_score_is_no_improvement_and_an_ae_is_judged_on_reconstruction():
    assert first_stop(EarlyStopping(2), [100.0, 90.0, 90.0, 90.0]) == 3
    ae_rows = [{"epoch": i, "val_neg_elbo": None, "val_recon": s} for i, s in enumerate([5, 4, 6])]
    assert EarlyStopping(1).best_epoch(ae_rows) == 1 and EarlyStopping(1)(ae_rows)


def test_bad_patience_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match="train.early_stop=0"):
        TrainConfig(early_stop=0)


def test_early_stop_without_a_validation_split_is_one_clear_error(tmp_path):
    cfg = replace(tiny_config(early_stop=2), data=DataConfig(name="digits", val_size=0))
    with pytest.raises(TrainingError, match=r"--early-stop .*\(--val-size 0\)"):
        train(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    # a large step size makes the validation loss wander within a few epochs
    cfg = tiny_config(epochs=30, early_stop=2, lr=0.05, lr_final_fraction=1.0)
    out = tmp_path_factory.mktemp("early") / "run"
    return cfg, train(cfg, out, progress=False, log=lambda _: None)


def test_a_real_run_stops_and_ends_with_its_best_weights(stopped):
    cfg, result = stopped
    assert result.status == "stopped" and result.epochs_completed < 30
    metrics = result.metrics
    scores = [m["val_neg_elbo"] for m in metrics]
    best = min(range(len(scores)), key=lambda i: (scores[i], i))
    assert result.epochs_completed - best == 2  # the patience, counted from the best
    assert result.best_epoch == best and result.final["epoch"] == best  # what the CLI prints
    assert all(s >= scores[best] for s in scores[best + 1 :])
    state = json.loads((result.run_dir / "state.json").read_text())
    assert state["status"] == "stopped" and state["best_epoch"] == best
    assert f"epoch {best}" in state["message"]
    # the saved model is the best epoch's: it encodes the probe set to that epoch's snapshot
    run = va.load_run(result.run_dir)
    index, _ = run.probe()
    probe = run.dataset.test.subset(index).float_images()
    mu, _ = encode_batches(run.model, probe)
    snapshot = {s.epoch: s.mu for s in run.snapshots()}
    assert torch.equal(mu, snapshot[best])
    assert not torch.equal(mu, snapshot[result.epochs_completed])


def test_resuming_a_stopped_run_stays_stopped(stopped):
    cfg, result = stopped
    again = train(cfg, result.run_dir, progress=False, log=lambda _: None, resume=True)
    assert again.status == "stopped"
    assert again.epochs_completed == result.epochs_completed
    assert [m["epoch"] for m in again.metrics] == [m["epoch"] for m in result.metrics]
