"""The conditional VAE: the class reaches both networks, the analysis passes the labels, a
dataset without labels is one error line, it overfits a batch and resumes bit-identically."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import vae_atlas as va
from vae_atlas.analysis.encode import decode_latents, encode_images
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.models import build_model

from ..tiny_runs import assert_same_weights, train_with_a_resume
from .one_batch import fit_one_batch, mean_wrong_pixels


def cvae_config(**kw) -> ModelConfig:
    base = {"image_shape": (1, 8, 8), "latent_dim": 2, "hidden": (32,), "n_classes": 10}
    return ModelConfig(objective="cvae", **{**base, **kw})


@pytest.fixture(scope="module")
def digits():
    return va.load_dataset(DataConfig(name="digits"))


@pytest.mark.parametrize("family", ["mlp", "conv"])
def test_the_same_code_decodes_differently_under_each_class(family):
    torch.manual_seed(0)
    shape = (1, 8, 8) if family == "mlp" else (1, 28, 28)
    hidden = (32,) if family == "mlp" else (8, 16)
    model = build_model(cvae_config(family=family, image_shape=shape, hidden=hidden)).eval()
    z = torch.zeros(3, 2)
    under = [model.decode(z, torch.full((3,), c)) for c in range(10)]
    for a in range(10):
        for b in range(a + 1, 10):
            assert not torch.allclose(under[a], under[b]), (a, b)
    x = torch.rand(3, *shape)
    mu0, _ = model.encode(x, torch.zeros(3, dtype=torch.long))
    mu1, _ = model.encode(x, torch.ones(3, dtype=torch.long))
    assert not torch.allclose(mu0, mu1)  # the encoder is told the class too


def test_the_analysis_encodes_and_decodes_with_each_images_label(digits):
    torch.manual_seed(0)
    model = build_model(cvae_config()).eval()
    test = digits.test.subset(torch.arange(12))
    lat = encode_images(model, test)
    x = test.images.float() / 255.0
    with torch.no_grad():
        mu, _ = model.encode(x, test.labels)
        by_hand = model.decode(mu, test.labels)
    assert np.allclose(lat.mu, mu.double().numpy(), atol=1e-6)
    decoded = decode_latents(model, lat.mu, labels=test.labels.numpy())
    assert np.allclose(decoded, by_hand.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="no labels"):
        encode_images(model, x)  # bare images: no class to encode with


def test_a_cvae_on_data_without_labels_is_one_error_line(tmp_path, capsys):
    folder = tmp_path / "flat"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    args = ["train", "--dataset", "folder", "--data-dir", str(folder), "--objective", "cvae"]
    assert main([*args, "--out", str(out), "--epochs", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "cvae" in lines[0] and "no labels" in lines[0]
    assert not out.exists()


def test_cvae_overfits_one_batch(digits):
    torch.manual_seed(0)
    x = (digits.train.images[:16].float() / 255.0).round()
    y = digits.train.labels[:16]
    model = build_model(cvae_config(hidden=(64,), latent_dim=4))
    fit_one_batch(model, x, steps=300, lr=3e-3, generator=torch.Generator().manual_seed(0), y=y)
    model.eval()
    with torch.no_grad():
        x_hat = model.decode(model.encode(x, y)[0], y)
    # binary 8x8 digits: fewer than 2 of 64 pixels on the wrong side of 0.5 per image
    assert mean_wrong_pixels(x_hat, x) < 2.0


def test_cvae_resume_is_bit_identical(tmp_path, digits):
    cfg = RunConfig(
        data=DataConfig(name="digits"),
        model=cvae_config(),
        train=TrainConfig(
            epochs=4, batch_size=64, probe_size=20, device="cpu", lr_final_fraction=1.0
        ),
    )
    full, part = train_with_a_resume(cfg, tmp_path, digits, stop_after=2)
    assert_same_weights(full, part)
    metrics = va.load_run(full).metrics
    assert metrics[-1]["test_neg_elbo"] == va.load_run(part).metrics[-1]["test_neg_elbo"]
