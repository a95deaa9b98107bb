"""Mixed precision, compilation and memory layout on the CPU: bf16 autocast trains close to
float32, fp16 is refused with one line, channels-last conv training resumes bit-identically
and lands where the default layout does."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import vae_atlas as va
from vae_atlas.cli import main
from vae_atlas.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.training import train

from ..tiny_runs import tiny_config, train_quietly
from .test_loop import assert_same_weights, weights


@pytest.fixture(scope="module")
def digits():
    return va.load_dataset(DataConfig(name="digits"))


def test_bf16_trains_on_the_cpu_within_one_percent_of_fp32(tmp_path, digits):
    fp32 = va.load_run(train_quietly(tiny_config(epochs=3), tmp_path / "fp32", digits))
    cfg = tiny_config(epochs=3, precision="bf16")
    bf16 = va.load_run(train_quietly(cfg, tmp_path / "bf16", digits))
    assert bf16.config.train.precision == "bf16"
    a, b = fp32.metrics[-1], bf16.metrics[-1]
    # the same seed and recipe; bf16 keeps 8 bits of mantissa in the matmuls only
    assert b["test_neg_elbo"] == pytest.approx(a["test_neg_elbo"], rel=0.01)
    assert b["train_loss"] == pytest.approx(a["train_loss"], rel=0.01)
    # and autocast really ran: the weights are not float32's bit for bit
    wa, wb = weights(tmp_path / "fp32"), weights(tmp_path / "bf16")
    assert any(not torch.equal(wa[k], wb[k]) for k in wa)
    assert all(v.dtype == torch.float32 for v in wb.values())  # the weights stay float32


def test_the_loss_terms_are_float32_under_autocast():
    model = va.build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    x = torch.rand(4, 1, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        terms = model.loss(x, generator=torch.Generator().manual_seed(0))
    assert terms.loss.dtype == terms.kl.dtype == terms.kl_per_dim.dtype == torch.float32
    assert terms.recon.dtype == torch.float32


def test_fp16_on_the_cpu_is_one_clear_line(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--dataset", "digits", "--epochs", "1", "--device", "cpu", "--quiet"]
    assert main([*argv, "--precision", "fp16", "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "--precision fp16 needs a CUDA device" in err and "bf16" in err
    assert not out.exists()


def test_an_unknown_precision_names_the_field():
    with pytest.raises(ConfigError, match="train.precision='fp8'"):
        TrainConfig(precision="fp8")


def conv_config(**train_kw) -> RunConfig:
    return RunConfig(
        data=DataConfig(name="shapes", image_size=32, n_samples=600),
        model=ModelConfig(family="conv", image_shape=(1, 32, 32), latent_dim=4, hidden=(8, 16)),
        train=TrainConfig(
            epochs=2, batch_size=64, probe_size=20, device="cpu", lr_final_fraction=1.0, **train_kw
        ),
    )


def test_channels_last_resumes_bit_identically_and_matches_the_default_layout(tmp_path):
    cfg = conv_config(channels_last=True)
    data = va.load_dataset(cfg.data)
    train(cfg, tmp_path / "full", dataset=data, progress=False)
    one = replace(cfg, train=replace(cfg.train, epochs=1))
    train(one, tmp_path / "part", dataset=data, progress=False)
    train(cfg, tmp_path / "part", dataset=data, progress=False, resume=True, log=lambda _: None)
    assert_same_weights(tmp_path / "full", tmp_path / "part")
    train(conv_config(), tmp_path / "plain", dataset=data, progress=False)
    a, b = weights(tmp_path / "full"), weights(tmp_path / "plain")
    for key in a:  # another summation order in the convolutions, nothing else
        torch.testing.assert_close(a[key], b[key], rtol=1e-3, atol=1e-4)
