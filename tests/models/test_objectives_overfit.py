"""Each disentangling objective can fit one batch: 32 digits, 300 steps of its own trainer; the
loss ends well below where it started (about 45 nats, 440 for DIP-VAE's penalised start, falls to
about 25) and the reconstruction beats the batch's own mean image (26.8 nats)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import load_digits
from vae_atlas.models import build_model
from vae_atlas.training import Trainer
from vae_atlas.training.objective_trainers import trainer_class_for

STEPS = 300


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    torch.set_num_threads(1)  # tiny matrices: threads only contend
    return load_digits().train.float_images()[:32]  # (32, 1, 8, 8)


# MWS's total correlation reads (D − 1)·log N too high (its weights sum to 1/N), a constant the
# loss carries (β − 1) times: here (6 − 1)·(4 − 1)·log 32
MWS_OFFSET = 5 * 3 * math.log(32)


@pytest.mark.parametrize(
    ("objective", "fields", "offset"),
    [
        ("beta-tcvae", {}, 0.0),
        ("beta-tcvae", {"tc_estimator": "mws"}, MWS_OFFSET),
        ("dip-vae", {"dip_type": "ii"}, 0.0),
        ("factor-vae", {"factor_hidden": (64, 64)}, 0.0),
    ],
)
def test_the_loss_falls_well_below_its_start_on_one_batch(batch, objective, fields, offset):
    torch.manual_seed(0)
    model_cfg = ModelConfig(
        image_shape=(1, 8, 8), latent_dim=4, hidden=(64,), objective=objective, **fields
    )
    config = RunConfig(
        data=DataConfig(name="digits"),
        model=model_cfg,
        train=TrainConfig(epochs=STEPS, batch_size=32, lr_final_fraction=1.0),
    )
    cls = trainer_class_for(objective, Trainer, distributed=False)
    trainer = cls(build_model(model_cfg), batch, config, torch.Generator().manual_seed(0))
    losses, recons = [], []
    for _ in range(STEPS):  # one batch is the whole epoch
        trainer.run_epoch()
        sums = trainer.end_epoch().sums
        losses.append(sums["loss"] / sums["images"])
        recons.append(sums["recon"] / sums["images"])
    start, end = losses[0] - offset, sum(losses[-20:]) / 20 - offset
    assert end < 0.7 * start, (start, end)
    mean_image = batch.mean(0, keepdim=True).clamp(1e-3, 1 - 1e-3).expand_as(batch)
    baseline = F.binary_cross_entropy(mean_image, batch, reduction="none").flatten(1).sum(1)
    assert sum(recons[-20:]) / 20 < float(baseline.mean())  # more than the mean image learned
