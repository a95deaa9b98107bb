"""What training scores its model on after every epoch: the test and validation sets (one fixed
binarisation of each when training binarises dynamically), the probe set whose codes are
snapshotted, and the metrics row of an epoch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vae_atlas.config import TrainConfig
from vae_atlas.data import Dataset, ImageSet, binarize_images
from vae_atlas.models import AutoEncoder, is_conditional
from vae_atlas.models.conditional import attribute_names_of
from vae_atlas.models.inference import encode_batches
from vae_atlas.seeds import derive_seed
from vae_atlas.training.evaluation import evaluate_elbo
from vae_atlas.training.trainer import EpochTotals, Trainer


@dataclass(frozen=True)
class HeldOutSets:
    """The images (N, C, H, W) floats training scores on; ``val`` is None without a split.
    ``probe_index`` (P,) sorted indices into test; ``test_labels`` (N,) or None; the splits'
    attributes (N, A) or None (what an attribute cvae is told)."""

    test: torch.Tensor
    val: torch.Tensor | None
    probe_index: torch.Tensor
    test_labels: torch.Tensor | None
    val_labels: torch.Tensor | None = None
    test_attributes: torch.Tensor | None = None
    val_attributes: torch.Tensor | None = None


def binarization_seed(train: TrainConfig, split: str) -> int | None:
    """The seed of the one fixed binarisation of held-out ``split`` ("test" or "validation")
    a run with dynamic binarisation is scored on (``evaluate`` too); None without it."""
    if not train.dynamic_binarization:
        return None
    return derive_seed(train.seed, f"binarize-{split}")


def scored_images(images: ImageSet, binarize_seed: int | None) -> torch.Tensor:
    """A held-out split as the model is scored on it (N, C, H, W): its grey levels, or one
    fixed binarisation (:func:`vae_atlas.data.binarize_images`) drawn with ``binarize_seed``."""
    if binarize_seed is None:
        return images.float_images()
    return binarize_images(images, binarize_seed)


def heldout_sets(data: Dataset, train: TrainConfig, device: torch.device) -> HeldOutSets:
    """The held-out sets of a run with training settings ``train`` on ``data``."""
    test = scored_images(data.test, binarization_seed(train, "test"))
    val = None
    if data.val is not None:
        val = scored_images(data.val, binarization_seed(train, "validation")).to(device)
    n_test = len(data.test)
    gen = torch.Generator().manual_seed(derive_seed(train.seed, "probe"))
    order = torch.randperm(n_test, generator=gen)
    probe = order[: min(train.probe_size, n_test)].sort().values
    val_labels = None if data.val is None else data.val.labels
    val_attributes = None if data.val is None else data.val.attributes
    return HeldOutSets(
        test.to(device),
        val,
        probe,
        data.test.labels,
        val_labels,
        data.test.attributes,
        val_attributes,
    )


def probe_codes(model: AutoEncoder, sets: HeldOutSets) -> dict[str, torch.Tensor]:
    """The probe set's posterior means (P, D) and, for a VAE, log-variances."""
    labels = _given_labels(model, sets.test_labels, sets.test_attributes)
    mu, logvar = encode_batches(
        model,
        sets.test[sets.probe_index.to(sets.test.device)],
        labels=None if labels is None else labels[sets.probe_index],
    )
    return {"mu": mu} if logvar is None else {"mu": mu, "logvar": logvar}


def epoch_row(trainer: Trainer, sets: HeldOutSets, totals: EpochTotals | None) -> dict[str, Any]:
    """The metrics row after ``trainer.position.epoch`` epochs: ``train_*`` from ``totals``
    (None for epoch 0), ``test_*`` and ``val_*`` single-sample −ELBO from fresh streams."""
    pos, tc, model = trainer.position, trainer.config.train, trainer.model
    stochastic = model.stochastic
    seconds = totals.seconds if totals is not None else 0.0
    row: dict[str, Any] = {"epoch": pos.epoch, "step": pos.step, "seconds": round(seconds, 4)}
    if totals is not None and totals.images:
        s, n = totals.sums, totals.images
        row.update(
            train_loss=s["loss"] / n,
            train_recon=s["recon"] / n,
            train_kl=s["kl"] / n if stochastic else None,
            train_neg_elbo=(s["recon"] + s["kl"]) / n if stochastic else None,
            images_per_s=round(n / seconds, 1) if seconds > 0 else None,
            skipped_batches=totals.skipped_batches,
        )
    test = _elbo(
        trainer,
        sets.test,
        derive_seed(tc.seed, "epoch-eval", pos.epoch),
        _given_labels(trainer.model, sets.test_labels, sets.test_attributes),
    )
    sched = trainer.schedule(max(pos.step - 1, 0))
    row.update(
        test_recon=test.recon,
        test_kl=test.kl if stochastic else None,
        test_neg_elbo=test.neg_elbo if stochastic else None,
        test_kl_per_dim=test.kl_per_dim if stochastic else None,
        lr=sched.lr,
        kl_weight=sched.kl_weight,
    )
    if not pos.epoch:  # epoch 0 records the split's sizes
        n_val = 0 if sets.val is None else sets.val.shape[0]
        row.update(n_train=trainer.train_x.shape[0], n_val=n_val)
    if sets.val is not None:
        val = _elbo(
            trainer,
            sets.val,
            derive_seed(tc.seed, "epoch-eval-validation", pos.epoch),
            _given_labels(trainer.model, sets.val_labels, sets.val_attributes),
        )
        row.update(
            val_recon=val.recon,
            val_kl=val.kl if stochastic else None,
            val_neg_elbo=val.neg_elbo if stochastic else None,
        )
    return row


def _elbo(trainer: Trainer, x: torch.Tensor, seed: int, labels: torch.Tensor | None) -> Any:
    gen = torch.Generator(device=trainer.device).manual_seed(seed)
    batch = trainer.config.train.eval_batch_size
    return evaluate_elbo(trainer.model, x, batch_size=batch, generator=gen, labels=labels)


def _given_labels(
    model: AutoEncoder, labels: torch.Tensor | None, attributes: torch.Tensor | None
) -> torch.Tensor | None:
    """What a conditional model is given (on its device): the labels, or an attribute cvae's
    attributes; None for any other model."""
    given = attributes if attribute_names_of(model) else labels
    if not is_conditional(model) or given is None:
        return None
    return given.to(next(model.parameters()).device)
