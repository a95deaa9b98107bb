"""Per-epoch validation metrics: present in metrics.jsonl and equal to an independent scoring
of the validation images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.checkpoint import read_metrics
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.training import train


def config(objective: str, epochs: int = 2) -> RunConfig:
    return RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), objective=objective),
        train=TrainConfig(epochs=epochs, batch_size=64, probe_size=20, device="cpu"),
    )


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("val") / "vae"
    train(config("vae"), out, progress=False)
    return va.load_run(out)


def test_every_epoch_has_val_rows_and_epoch0_records_the_split(vae_run):
    rows = read_metrics(vae_run.path / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert (rows[0]["n_train"], rows[0]["n_val"]) == (1294, 144)
    for r in rows:
        assert np.isclose(r["val_neg_elbo"], r["val_recon"] + r["val_kl"])
    assert rows[-1]["val_neg_elbo"] < rows[0]["val_neg_elbo"]  # it learned


def test_val_kl_is_the_closed_form_on_the_validation_images(vae_run):
    val = va.load_dataset(vae_run.config.data).val
    with torch.no_grad():
        mu, logvar = vae_run.model.encode(val.float_images())
    # KL(N(mu, s^2) || N(0, 1)) = 0.5 (mu^2 + s^2 - 1 - log s^2), per dimension
    kl = 0.5 * (mu.double() ** 2 + logvar.double().exp() - 1 - logvar.double())
    final = vae_run.metrics[-1]
    assert final["val_kl"] == pytest.approx(float(kl.sum(1).mean()), rel=1e-5)


def test_val_neg_elbo_agrees_with_neg_elbo_per_image(vae_run):
    val = va.load_dataset(vae_run.config.data).val
    per_image = neg_elbo_per_image(vae_run.model, val, n_samples=64, seed=1)
    # the loop draws one z per image: its mean differs from the 64-sample one by sampling noise
    # only; on the training or test images it would differ by far more than this
    one_sample_sd = 3 * per_image.std() / np.sqrt(len(per_image)) + 0.5
    assert abs(vae_run.metrics[-1]["val_neg_elbo"] - per_image.mean()) < one_sample_sd


def test_autoencoder_val_recon_equals_neg_elbo_per_image_exactly(tmp_path):
    out = tmp_path / "ae"
    train(config("ae", epochs=1), out, progress=False)
    run = va.load_run(out)
    data = va.load_dataset(run.config.data)
    final = run.metrics[-1]
    assert final["val_kl"] is None and final["val_neg_elbo"] is None
    assert final["val_recon"] == pytest.approx(neg_elbo_per_image(run.model, data.val).mean())
    # and not the same number on the images it trained on, or on test
    for other in (data.train, data.test):
        assert final["val_recon"] != pytest.approx(neg_elbo_per_image(run.model, other).mean())


def test_no_split_means_no_val_keys(tmp_path):
    cfg = config("vae", epochs=1)
    cfg = RunConfig(data=DataConfig(name="digits", val_size=0), model=cfg.model, train=cfg.train)
    rows = train(cfg, tmp_path / "run", progress=False).metrics
    assert (rows[0]["n_train"], rows[0]["n_val"]) == (1438, 0)
    assert not any(key.startswith("val_") for row in rows for key in row)


def test_cli_val_size_flag_is_recorded_and_bad_values_are_one_line(tmp_path, capsys):
    args = ["train", "--latent-dim", "2", "--hidden", "16", "--epochs", "1", "--no-progress"]
    assert main([*args, "--val-size", "100", "--out", str(tmp_path / "r")]) == 0
    run = va.load_run(tmp_path / "r")
    assert run.config.data.val_size == 100 and run.metrics[0]["n_val"] == 100
    capsys.readouterr()
    assert main([*args, "--val-size", "5000", "--out", str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "data.val_size=5000" in err
