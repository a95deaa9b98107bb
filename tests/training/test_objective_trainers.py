"""Training the disentangling objectives: FactorVAE's discriminator optimiser (its own learning
rate and betas, checkpointed, bit-identical resume) and the trainer each objective gets."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from functools import partial

import pytest
import torch

import vae_atlas as va
from vae_atlas.checkpoint import load_tensors
from vae_atlas.config import DataConfig
from vae_atlas.models.objectives import permute_dims
from vae_atlas.training import FactorVAETrainer, TCVAETrainer, Trainer, TrainingError, train
from vae_atlas.training.objective_trainers import trainer_class_for

from ..tiny_runs import assert_same_weights, weights
from ..tiny_runs import tiny_config as base_config


def factor_config(epochs: int = 2):
    # a constant lr: a resumed shorter run must follow the same schedule
    cfg = base_config("factor-vae", 3, hidden=(24,), epochs=epochs, lr_final_fraction=1.0)
    return replace(cfg, model=replace(cfg.model, factor_hidden=(16, 16)))


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return va.load_dataset(DataConfig(name="digits"))


class CtrlCAtStep(FactorVAETrainer):
    """A real SIGINT after step 30 (mid epoch 2: 21 batches per epoch)."""

    def step(self, x):
        terms = super().step(x)
        if self.position.step + 1 == 30:
            os.kill(os.getpid(), signal.SIGINT)
        return terms


def test_resume_mid_epoch_is_bit_identical_discriminator_included(tmp_path, digits):
    cfg = factor_config(epochs=3)
    quiet = partial(train, dataset=digits, progress=False, log=lambda _: None)
    quiet(cfg, tmp_path / "full")
    result = quiet(cfg, tmp_path / "int", trainer_class=CtrlCAtStep)
    assert result.status == "interrupted"
    quiet(cfg, tmp_path / "int", resume=True)
    assert_same_weights(tmp_path / "full", tmp_path / "int")
    assert any(k.startswith("discriminator.") for k in weights(tmp_path / "full"))


def test_resume_at_an_epoch_boundary_is_bit_identical(tmp_path, digits):
    cfg = factor_config(epochs=2)
    quiet = partial(train, dataset=digits, progress=False, log=lambda _: None)
    quiet(cfg, tmp_path / "full")
    quiet(replace(cfg, train=replace(cfg.train, epochs=1)), tmp_path / "part")
    quiet(cfg, tmp_path / "part", resume=True)
    assert_same_weights(tmp_path / "full", tmp_path / "part")
    # train() chose FactorVAETrainer by itself: the discriminator's group is in the checkpoint
    meta = load_tensors(tmp_path / "part" / "checkpoint.safetensors")[1]
    assert [g["lr"] for g in meta["param_groups"]][1:] == [1e-4]


def test_the_discriminator_has_its_own_adam_and_keeps_its_rate(tmp_path, digits):
    """Kim & Mnih: Adam(lr 1e-4, betas 0.5, 0.9) for the discriminator, whose weights the
    autoencoder's Adam never holds; the run's cosine schedule moves only the autoencoder's."""
    cfg = base_config("factor-vae", 3, hidden=(24,), epochs=2, lr_final_fraction=0.05)
    cfg = replace(cfg, model=replace(cfg.model, factor_hidden=(16,)))
    steps = []

    class Watch(FactorVAETrainer):
        def step(self, x):
            terms = super().step(x)
            groups = self.optimizer.param_groups
            steps.append((groups[0]["lr"], groups[1]["lr"], groups[1]["betas"]))
            return terms

    train(cfg, tmp_path / "run", dataset=digits, progress=False, trainer_class=Watch)
    first, last = steps[0], steps[-1]
    assert first[0] == pytest.approx(3e-3) and last[0] < 0.5 * first[0]  # cosine decay
    assert {s[1] for s in steps} == {1e-4}  # the discriminator's rate stays put
    assert {tuple(s[2]) for s in steps} == {(0.5, 0.9)}
    model = va.load_run(tmp_path / "run").model
    disc = {id(p) for p in model.discriminator.parameters()}
    assert disc and all(id(p) not in disc for p in model.autoencoder_parameters())
    # the checkpoint holds Adam moments for every weight, the discriminator's included
    tensors, meta = load_tensors(tmp_path / "run" / "checkpoint.safetensors")
    n_params = len(list(model.parameters()))
    assert {f"optim.{i}.exp_avg" for i in range(n_params)} <= set(tensors)
    assert meta["param_groups"][1]["betas"] == [0.5, 0.9]


def test_the_discriminator_learns_to_tell_permuted_codes(tmp_path, digits):
    """After training, the discriminator scores fresh codes of q(z) above their permutation."""
    cfg = factor_config(epochs=3)
    train(cfg, tmp_path / "run", dataset=digits, progress=False)
    run = va.load_run(tmp_path / "run")
    x = digits.test.float_images()
    with torch.no_grad():
        mu, logvar = run.model.encode(x)
        gen = torch.Generator().manual_seed(0)
        z = mu + torch.randn(mu.shape, generator=gen) * (0.5 * logvar).exp()
        joint = run.model.discriminator(z)
        shuffled = run.model.discriminator(permute_dims(z, gen))
    assert float(joint.mean()) > float(shuffled.mean())


def test_objectives_pick_their_trainer_and_refuse_what_cannot_train_them():
    assert trainer_class_for("factor-vae", Trainer, distributed=False) is FactorVAETrainer
    assert trainer_class_for("beta-tcvae", Trainer, distributed=False) is TCVAETrainer
    assert trainer_class_for("vae", Trainer, distributed=False) is Trainer
    assert trainer_class_for("factor-vae", CtrlCAtStep, distributed=False) is CtrlCAtStep

    class Plain(Trainer):
        pass

    with pytest.raises(TrainingError, match="factor-vae trains with FactorVAETrainer"):
        trainer_class_for("factor-vae", Plain, distributed=False)
    for objective in ("beta-tcvae", "factor-vae"):
        with pytest.raises(TrainingError, match="trains in one process"):
            trainer_class_for(objective, Trainer, distributed=True)
    assert trainer_class_for("dip-vae", Trainer, distributed=True) is Trainer
