"""The training section of a run's configuration: optimisation, device, precision and stopping."""

from __future__ import annotations

from dataclasses import dataclass

from vae_atlas.config.choices import DEVICES, MAX_SEED, NAN_POLICIES, PRECISIONS
from vae_atlas.config.validation import _check_choice, _check_int, _check_positive


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Optimisation settings. ``warmup_epochs`` ramps the KL weight linearly from 0 to β."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 3e-3  # with the cosine decay below; benchmarks/recipe_sweep.py, docs/train_speed.md
    lr_final_fraction: float = 0.05
    weight_decay: float = 0.0
    adam_eps: float = 1e-8  # Adam's ε (Burda et al. 2016 used 1e-4)
    warmup_epochs: float = 0.0
    seed: int = 0
    device: str = "auto"
    probe_size: int = 2000
    nan_policy: str = "stop"
    dynamic_binarization: bool = False
    grad_clip: float | None = None
    eval_batch_size: int = 2048
    # stop when validation −ELBO has not improved for this many epochs (None: train them all)
    early_stop: int | None = None
    precision: str = "fp32"
    compile: bool = False  # torch.compile the training loss (forward and backward)
    channels_last: bool = False  # conv models: NHWC memory layout (README: measured speed-up)

    def __post_init__(self) -> None:
        _check_int("train.epochs", self.epochs, 1)
        _check_int("train.batch_size", self.batch_size, 1)
        _check_positive("train.lr", self.lr)
        _check_positive("train.lr_final_fraction", self.lr_final_fraction)
        _check_positive("train.weight_decay", self.weight_decay, allow_zero=True)
        _check_positive("train.adam_eps", self.adam_eps)
        _check_positive("train.warmup_epochs", self.warmup_epochs, allow_zero=True)
        _check_int("train.seed", self.seed, 0, MAX_SEED)
        _check_choice("train.device", self.device, DEVICES)
        _check_int("train.probe_size", self.probe_size, 0)
        _check_choice("train.nan_policy", self.nan_policy, NAN_POLICIES)
        _check_int("train.eval_batch_size", self.eval_batch_size, 1)
        if self.grad_clip is not None:
            _check_positive("train.grad_clip", self.grad_clip)
        if self.early_stop is not None:
            _check_int("train.early_stop", self.early_stop, 1)
        _check_choice("train.precision", self.precision, PRECISIONS)
