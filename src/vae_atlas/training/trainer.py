"""The training step and epoch: :class:`Trainer` is given its model, training images, config and
generator, and owns the optimiser, the schedules (learning rate, KL warm-up β(t), capacity C(t))
and the loop's position. It writes no file and prints nothing; :func:`vae_atlas.training.train`
drives it and keeps the run directory.

Determinism: every random draw of a step (batch order, reparameterisation noise, dynamic
binarisation) comes from the one ``generator``, whose state the checkpoint keeps, so a resumed
run repeats exactly the draws of an uninterrupted one on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from vae_atlas.config import RunConfig
from vae_atlas.data.dataset import pixels_as_float
from vae_atlas.models import AutoEncoder
from vae_atlas.models.vae import LossTerms
from vae_atlas.training.errors import TrainingDiverged, TrainingError
from vae_atlas.training.schedules import capacity_at, kl_weight_at, lr_at
from vae_atlas.training.state import LoopPosition

_FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def make_adam(
    params: Iterable[torch.nn.Parameter],
    *,
    lr: float,
    weight_decay: float = 0.0,
    eps: float = 1e-8,
) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) with the fused update wherever the parameters allow it.

    The fused kernel updates every weight in one pass instead of the ~10 passes of the
    multi-tensor version; it is deterministic on CPU and keeps the same optimizer state (so the
    same checkpoint format). A checkpoint restores its own ``fused`` flag with its param groups.
    """
    params = list(params)
    fused = bool(params) and all(
        p.device.type in ("cpu", "cuda") and p.dtype in _FUSED_DTYPES for p in params
    )
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, eps=eps, fused=fused or None)


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when there is one, else the CPU; ``cuda`` without one is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda was asked for but no CUDA device is available")
    return torch.device(name)


@dataclass(frozen=True)
class Schedule:
    """The step's learning rate, KL weight β(t) and capacity target C(t) in nats."""

    lr: float
    kl_weight: float
    capacity: float


@dataclass(frozen=True)
class EpochTotals:
    """One finished epoch's training numbers: sums over its images (nats), its seconds, and
    the batches skipped for a non-finite loss."""

    sums: dict[str, float]
    seconds: float
    skipped_batches: int

    @property
    def images(self) -> float:
        return self.sums.get("images", 0.0)


def never() -> bool:
    return False


class Trainer:
    """Trains ``model`` on ``train_images`` (N, C, H, W) — uint8 pixels, or floats in [0, 1] —
    as ``config`` says.

    ``step(x)`` is one optimiser step on a batch at the current position; ``run_epoch()`` the
    batches of one epoch in the order ``generator`` draws; ``end_epoch()`` closes an epoch.
    ``position`` is what a checkpoint saves. Subclass and override :meth:`step` to watch or
    alter single steps.
    """

    def __init__(
        self,
        model: AutoEncoder,
        train_images: torch.Tensor,
        config: RunConfig,
        generator: torch.Generator,
        *,
        device: torch.device | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        tc = config.train
        self.model, self.config, self.generator = model, config, generator
        self.device = device or next(model.parameters()).device
        self.train_x = train_images.to(self.device)  # (N, C, H, W) uint8, or floats in [0, 1]
        # NHWC for convolutions (measured faster on CPU, README); an MLP has no image layout
        self.memory_format = (
            torch.channels_last
            if tc.channels_last and config.model.family == "conv"
            else torch.contiguous_format
        )
        model.to(memory_format=self.memory_format)
        self.optimizer = optimizer or make_adam(
            model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay, eps=tc.adam_eps
        )
        if tc.precision == "fp16" and self.device.type != "cuda":
            raise TrainingError(
                f"--precision fp16 needs a CUDA device (its loss scaling is CUDA-only); "
                f"on {self.device.type} use --precision bf16 or fp32"
            )
        self.autocast = AUTOCAST_DTYPES.get(tc.precision)  # None: float32 throughout
        # fp16 gradients underflow without loss scaling; bf16 has float32's range
        self.scaler = torch.amp.GradScaler("cuda", enabled=tc.precision == "fp16")
        self.loss_fn = torch.compile(model.loss) if tc.compile else model.loss
        self.steps_per_epoch = math.ceil(self.train_x.shape[0] / tc.batch_size)
        self.total_steps = self.steps_per_epoch * tc.epochs
        self.warmup_steps = round(tc.warmup_epochs * self.steps_per_epoch)
        self.position = LoopPosition()
        self.world_size = 1  # the processes training together (see DistributedTrainer)

    def restore(self, position: LoopPosition) -> None:
        """Continue from a checkpoint's ``position`` (model, optimizer and generator already
        loaded): the optimizer's moments take their parameter's memory layout, as they had
        when saved — a loaded state is contiguous, and Adam then reads it differently."""
        for param, slots in self.optimizer.state.items():
            for key, value in slots.items():
                if torch.is_tensor(value) and value.shape == param.shape:
                    slots[key] = torch.empty_like(param).copy_(value)
        self.position = position

    def schedule(self, step: int) -> Schedule:
        """The schedules at global ``step`` (pure functions of the step, see schedules.py)."""
        tc, mc = self.config.train, self.config.model
        return Schedule(
            lr=lr_at(
                step, lr=tc.lr, total_steps=self.total_steps, final_fraction=tc.lr_final_fraction
            ),
            kl_weight=kl_weight_at(step, beta=mc.beta, warmup_steps=self.warmup_steps),
            capacity=capacity_at(
                step, capacity_max=mc.capacity_max, capacity_steps=mc.capacity_steps
            ),
        )

    def step(self, x: torch.Tensor) -> LossTerms:
        """One optimiser step on the batch ``x`` (B, C, H, W); returns its (detached) terms.

        A non-finite loss skips the batch (``nan_policy="skip"``) or raises
        :class:`TrainingDiverged` before the weights change.
        """
        tc, pos = self.config.train, self.position
        sched = self.schedule(pos.step)
        self.apply_lr(sched.lr)
        terms, to_backprop = self.forward(x, sched)
        # one read of all three scalars (one device sync on GPU instead of three)
        values = torch.stack([terms.loss, terms.recon, terms.kl]).detach().tolist()
        b = float(x.shape[0])
        sums = self.reduce({"loss": values[0] * b, "recon": values[1] * b,
                            "kl": values[2] * b, "images": b})  # fmt: skip
        if not math.isfinite(sums["loss"]):
            if tc.nan_policy != "skip":
                raise TrainingDiverged(self.divergence(values[0]))
            pos.skipped_batches += 1
            return _detached(terms)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(to_backprop).backward()  # disabled (fp32, bf16): the loss as it is
        if tc.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        for key, value in sums.items():
            pos.sums[key] += value
        return _detached(terms)

    def apply_lr(self, lr: float) -> None:
        """Set the step's learning rate on the optimiser (here on every parameter group)."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def forward(self, x: torch.Tensor, sched: Schedule) -> tuple[LossTerms, torch.Tensor]:
        """The loss terms of the batch ``x`` and the scalar to backpropagate (here the loss)."""
        tc, mc = self.config.train, self.config.model
        if tc.dynamic_binarization:
            x = torch.bernoulli(x, generator=self.generator)
        x = x.contiguous(memory_format=self.memory_format)
        with torch.autocast(
            self.device.type, dtype=self.autocast, enabled=self.autocast is not None
        ):
            terms = self.loss_fn(
                x,
                kl_weight=sched.kl_weight,
                capacity=sched.capacity,
                k=mc.iwae_k,
                generator=self.generator,
                **self.loss_options(),
            )
        return terms, terms.loss

    def loss_options(self) -> dict[str, Any]:
        """Keyword arguments the objective's loss needs beyond the schedule (none here)."""
        return {}

    def reduce(self, sums: dict[str, float]) -> dict[str, float]:
        """A step's sums over its images (nats and the image count) as the epoch counts them:
        this process's own; with several processes, the sums over all of them."""
        return sums

    def divergence(self, loss: float) -> str:
        """Where the loss became ``loss``: epoch, step and batch, counted from 1."""
        pos = self.position
        return (
            f"training diverged: the loss became {loss} at epoch {pos.epoch + 1}, step "
            f"{pos.step + 1} (batch {pos.batch_index + 1} of {self.steps_per_epoch})."
        )

    def run_epoch(
        self,
        interrupted: Callable[[], bool] = never,
        on_batch: Callable[[LoopPosition, float], None] | None = None,
    ) -> bool:
        """Train the rest of the current epoch; False when ``interrupted()`` said stop before a
        step (``position`` then marks that step, ready to be saved). ``on_batch(position,
        seconds)`` follows each step."""
        tc, pos = self.config.train, self.position
        if pos.perm is None:  # a fresh epoch (a saved mid-epoch position keeps its perm)
            n = self.train_x.shape[0]
            pos.perm = torch.randperm(n, generator=self.generator, device=self.device)
            pos.sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "images": 0.0}
            pos.epoch_seconds, pos.skipped_batches = 0.0, 0
        t0 = time.perf_counter()
        self.model.train()
        while pos.batch_index < self.steps_per_epoch:
            if interrupted():
                pos.epoch_seconds += time.perf_counter() - t0
                return False
            start = pos.batch_index * tc.batch_size
            batch = self.train_x.index_select(0, self.batch_indices(start))
            self.step(pixels_as_float(batch))  # (B, C, H, W) float32 in [0, 1]
            pos.batch_index += 1
            pos.step += 1
            if on_batch is not None:
                on_batch(pos, time.perf_counter() - t0 + pos.epoch_seconds)
        pos.epoch_seconds += time.perf_counter() - t0
        return True

    def batch_indices(self, start: int) -> torch.Tensor:
        """The training images this process steps on for the batch that begins at ``start``
        in the epoch's order."""
        return self.position.perm[start : start + self.config.train.batch_size]

    def end_epoch(self) -> EpochTotals:
        """Close a fully trained epoch: weights checked finite, position at the next epoch."""
        if not all(torch.isfinite(p).all() for p in self.model.parameters()):
            raise TrainingDiverged(self.divergence(float("nan")))
        pos = self.position
        pos.epoch += 1
        pos.batch_index, pos.perm = 0, None
        return EpochTotals(dict(pos.sums), pos.epoch_seconds, pos.skipped_batches)


def _detached(terms: LossTerms) -> LossTerms:
    return LossTerms(
        loss=terms.loss.detach(),
        recon=terms.recon.detach(),
        kl=terms.kl.detach(),
        kl_per_dim=terms.kl_per_dim.detach(),
    )
