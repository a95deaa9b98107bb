"""The training loop: determinism, resume, NaN handling, interruption, metrics and snapshots."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from functools import partial

import pytest
import torch

import vae_atlas as va
from vae_atlas.config import DataConfig
from vae_atlas.models import AutoEncoder
from vae_atlas.training import Trainer, TrainingDiverged, TrainingError, load_state, train

from ..tiny_runs import assert_same_weights, weights
from ..tiny_runs import tiny_config as base_config

# a constant lr: a cosine schedule depends on the total epochs, and these tests compare runs of
# different lengths
tiny_config = partial(base_config, lr_final_fraction=1.0)


@pytest.fixture(scope="module")
def digits():
    return va.load_dataset(DataConfig(name="digits"))


def test_same_seed_same_weights_and_different_seed_differs(tmp_path, digits):
    cfg = tiny_config()
    train(cfg, tmp_path / "a", dataset=digits, progress=False)
    train(cfg, tmp_path / "b", dataset=digits, progress=False)
    assert_same_weights(tmp_path / "a", tmp_path / "b")
    other = replace(cfg, train=replace(cfg.train, seed=1))
    train(other, tmp_path / "c", dataset=digits, progress=False)
    assert not torch.equal(
        weights(tmp_path / "a")["encoder.net.1.weight"],
        weights(tmp_path / "c")["encoder.net.1.weight"],
    )


def test_resume_after_fewer_epochs_equals_uninterrupted(tmp_path, digits):
    # constant lr: a cosine schedule depends on the total epochs, so a 2-epoch run differs
    cfg = tiny_config(epochs=4, dynamic_binarization=True, warmup_epochs=2)
    train(cfg, tmp_path / "full", dataset=digits, progress=False)
    short = replace(cfg, train=replace(cfg.train, epochs=2))
    train(short, tmp_path / "part", dataset=digits, progress=False)
    result = train(cfg, tmp_path / "part", dataset=digits, progress=False, resume=True)
    assert result.status == "complete" and result.epochs_completed == 4
    assert_same_weights(tmp_path / "full", tmp_path / "part")
    full_metrics = va.load_run(tmp_path / "full").metrics
    part_metrics = va.load_run(tmp_path / "part").metrics
    assert [m["epoch"] for m in part_metrics] == [0, 1, 2, 3, 4]
    for a, b in zip(full_metrics, part_metrics, strict=True):
        assert a["test_neg_elbo"] == b["test_neg_elbo"]
        assert a.get("train_loss") == b.get("train_loss")


class CtrlCAtStep(Trainer):
    """A trainer whose 30th step is followed by a real SIGINT (mid epoch 2: 21 batches per
    epoch), as if the user pressed Ctrl-C there."""

    def step(self, x):
        terms = super().step(x)
        if self.position.step + 1 == 30:
            os.kill(os.getpid(), signal.SIGINT)
        return terms


def test_interrupt_mid_epoch_saves_and_resumes_identically(tmp_path, digits):
    cfg = tiny_config(epochs=3)
    train(cfg, tmp_path / "full", dataset=digits, progress=False)
    messages = []
    result = train(
        cfg,
        tmp_path / "int",
        dataset=digits,
        progress=False,
        log=messages.append,
        trainer_class=CtrlCAtStep,
    )
    assert result.status == "interrupted"
    assert result.epochs_completed == 1
    assert "interrupted at epoch 2, step 30" in result.message and "--resume" in result.message
    assert load_state(tmp_path / "int")["status"] == "interrupted"
    resumed = train(cfg, tmp_path / "int", dataset=digits, progress=False, resume=True)
    assert resumed.status == "complete"
    assert_same_weights(tmp_path / "full", tmp_path / "int")


# (global step, poison): first step ever, last and first batch around an epoch boundary, mid-run
NAN_CASES = [(1, "nan"), (23, "inf"), (24, "nan"), (30, "-inf"), (46, "nan"), (60, "inf")]


@pytest.mark.parametrize(("at_step", "poison"), NAN_CASES)
def test_nan_loss_stops_with_epoch_and_step_and_keeps_last_good(
    tmp_path, monkeypatch, at_step, poison
):
    # all 1,438 training digits (no validation split): 23 batches of 64 per epoch
    cfg = replace(tiny_config(epochs=3), data=DataConfig(name="digits", val_size=0))
    original = AutoEncoder.loss
    count = {"n": 0}

    def poisoned(self, x, **kw):
        terms = original(self, x, **kw)
        count["n"] += 1
        if count["n"] == at_step:
            return replace(terms, loss=terms.loss + float(poison))
        return terms

    monkeypatch.setattr(AutoEncoder, "loss", poisoned)
    epoch, batch = divmod(at_step - 1, 23)
    expected = rf"became {poison.lstrip('-')}|became -inf"
    with pytest.raises(TrainingDiverged, match=expected) as info:
        train(cfg, tmp_path / "run", dataset=va.load_dataset(cfg.data), progress=False)
    assert f"epoch {epoch + 1}, step {at_step} (batch {batch + 1} of 23)" in str(info.value)
    run = va.load_run(tmp_path / "run")  # still loads: the last good checkpoint
    assert run.state["status"] == "diverged"
    assert [m["epoch"] for m in run.metrics] == list(range(epoch + 1))
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    monkeypatch.undo()
    resumed = train(cfg, tmp_path / "run", progress=False, resume=True)
    assert resumed.status == "complete"  # the stop was the fault's, not the run's


def test_nan_policy_skip_skips_the_batch(tmp_path, digits, monkeypatch):
    cfg = tiny_config(epochs=2, nan_policy="skip")
    original = AutoEncoder.loss
    count = {"n": 0}

    def poisoned(self, x, **kw):
        terms = original(self, x, **kw)
        count["n"] += 1
        return replace(terms, loss=terms.loss * float("inf")) if count["n"] in (3, 5) else terms

    monkeypatch.setattr(AutoEncoder, "loss", poisoned)
    result = train(cfg, tmp_path / "run", dataset=digits, progress=False)
    assert result.status == "complete"
    assert result.metrics[1]["skipped_batches"] == 2
    assert result.metrics[2]["skipped_batches"] == 0


def test_metrics_snapshots_and_training_improves(tmp_path, digits):
    result = train(tiny_config(epochs=5), tmp_path / "run", dataset=digits, progress=False)
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["epoch"] for r in rows] == list(range(6))
    for key in (
        "train_neg_elbo",
        "train_recon",
        "train_kl",
        "test_neg_elbo",
        "test_recon",
        "test_kl",
        "test_kl_per_dim",
        "seconds",
        "images_per_s",
    ):
        assert key in rows[-1], key
    assert len(rows[-1]["test_kl_per_dim"]) == 2
    # the untrained decoder already outputs the mean image (output-bias init), so the gain is
    # smaller than from random logits, but five epochs must still clearly improve on it
    assert rows[-1]["test_neg_elbo"] < rows[0]["test_neg_elbo"] - 0.5
    run = va.load_run(result.run_dir)
    snaps = run.snapshots()
    assert [s.epoch for s in snaps] == list(range(6))
    assert snaps[0].mu.shape == (50, 2)
    index, labels = run.probe()
    assert index.shape == (50,) and labels is not None


def test_refuses_to_overwrite_an_existing_run(tmp_path, digits):
    train(tiny_config(epochs=1), tmp_path / "run", dataset=digits, progress=False)
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    with pytest.raises(TrainingError, match="already holds a run"):
        train(tiny_config(epochs=1), tmp_path / "run", dataset=digits, progress=False)
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_resume_with_a_different_model_is_refused(tmp_path, digits):
    train(tiny_config(epochs=1), tmp_path / "run", dataset=digits, progress=False)
    cfg = tiny_config(epochs=2)
    other = replace(cfg, model=replace(cfg.model, latent_dim=3))
    with pytest.raises(TrainingError, match="own config"):
        train(other, tmp_path / "run", dataset=digits, progress=False, resume=True)


@pytest.mark.parametrize("objective", ["ae", "beta-vae", "iwae"])
def test_other_objectives_train(tmp_path, digits, objective):
    cfg = tiny_config(epochs=1)
    cfg = replace(
        cfg,
        model=replace(
            cfg.model,
            objective=objective,
            iwae_k=4,
            beta=4.0 if objective == "beta-vae" else 1.0,
            capacity_max=5.0 if objective == "beta-vae" else 0.0,
        ),
    )
    result = train(cfg, tmp_path / "run", dataset=digits, progress=False)
    assert result.status == "complete"
    final = result.final
    if objective == "ae":
        assert final["test_kl"] is None and final["test_neg_elbo"] is None
    else:
        assert final["test_neg_elbo"] > 0


def test_should_stop_ends_cleanly_and_a_resume_asks_it_again(tmp_path, digits):
    cfg = tiny_config(epochs=4)
    train(cfg, tmp_path / "full", dataset=digits, progress=False)
    seen = []

    def after_two(rows):
        seen.append(rows[-1]["epoch"])
        return rows[-1]["epoch"] >= 2

    out = tmp_path / "run"
    result = train(cfg, out, dataset=digits, progress=False, should_stop=after_two)
    assert (result.status, result.epochs_completed) == ("stopped", 2)
    assert seen == [1, 2]
    assert load_state(out)["status"] == "stopped"
    again = train(cfg, out, dataset=digits, progress=False, resume=True, should_stop=after_two)
    assert (again.status, again.epochs_completed) == ("stopped", 2)
    # without the rule the run goes on, exactly as if it had never stopped
    rest = train(cfg, out, dataset=digits, progress=False, resume=True)
    assert (rest.status, rest.epochs_completed) == ("complete", 4)
    assert_same_weights(tmp_path / "full", out)


def test_a_non_writer_trains_the_same_steps_and_writes_and_says_nothing(tmp_path, digits):
    cfg = tiny_config(epochs=2)
    written = train(cfg, tmp_path / "a", dataset=digits, progress=False)
    said, rows = [], []
    silent = train(
        cfg,
        tmp_path / "b",
        dataset=digits,
        progress="lines",
        log=said.append,
        writes=False,
        on_epoch_end=rows.append,
    )
    assert not (tmp_path / "b").exists() and said == []
    assert silent.status == "complete" and [r["epoch"] for r in rows] == [1, 2]
    for a, b in zip(written.metrics, silent.metrics, strict=True):
        assert a["test_neg_elbo"] == b["test_neg_elbo"] and a.get("train_loss") == b.get(
            "train_loss"
        )
