"""A cvae's training steps see each image with its own label."""

from __future__ import annotations

import torch

import vae_atlas as va
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.models import build_model
from vae_atlas.training.conditional import ConditionalTrainer


def test_every_training_batch_carries_its_own_images_labels():
    digits = va.load_dataset(DataConfig(name="digits"))
    images, labels = digits.train.images[:200], digits.train.labels[:200]
    label_of = {bytes(img.numpy().tobytes()): int(y) for img, y in zip(images, labels, strict=True)}
    cfg = RunConfig(
        model=ModelConfig(
            objective="cvae", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), n_classes=10
        ),
        train=TrainConfig(epochs=1, batch_size=32, device="cpu"),
    )
    model = build_model(cfg.model)
    seen = []
    original = model.loss

    def spy(x, *, y, **kw):
        seen.append((x.detach().clone(), y.clone()))
        return original(x, y=y, **kw)

    model.loss = spy
    gen = torch.Generator().manual_seed(0)
    trainer = ConditionalTrainer(model, images, cfg, gen, train_labels=labels)
    assert trainer.run_epoch()
    assert sum(len(y) for _, y in seen) == 200
    for x, y in seen:
        pixels = (x * 255).round().to(torch.uint8)
        assert [label_of[bytes(p.numpy().tobytes())] for p in pixels] == y.tolist()
