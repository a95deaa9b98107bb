"""One short training run on the real MNIST must clearly beat the untrained model."""

from __future__ import annotations

import pytest

import vae_atlas as va
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig


@pytest.mark.mnist
def test_one_epoch_on_real_mnist_beats_untrained(tmp_path, mnist_dir):
    cfg = RunConfig(
        data=DataConfig(name="mnist", data_dir=str(mnist_dir)),
        model=ModelConfig(image_shape=(1, 28, 28), latent_dim=2, hidden=(256,)),
        train=TrainConfig(epochs=1, batch_size=256, lr=2e-3, probe_size=500),
    )
    result = va.train(cfg, tmp_path / "m", progress=False)
    untrained, trained = result.metrics[0]["test_neg_elbo"], result.metrics[-1]["test_neg_elbo"]
    # the untrained decoder outputs the mean training image (~209 nats); one epoch of a 2-D VAE
    # reaches ~150-170
    assert trained < untrained - 25, (untrained, trained)
    assert trained < 185, (untrained, trained)
    run = va.load_run(tmp_path / "m")
    assert run.dataset.test.images.shape == (10_000, 1, 28, 28)
    assert run.snapshots()[-1].mu.shape == (500, 2)
