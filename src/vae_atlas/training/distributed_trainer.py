"""The training step as one of several processes: :class:`DistributedTrainer` wraps the model's
loss in DistributedDataParallel and trains this rank's slice of every global batch.

Every rank holds the same batch order (the run's ``loop`` stream, restored from the checkpoint
like a single process's), so global batch ``j`` is the batch one process would train, split
contiguously over the ranks. Reparameterisation noise and dynamic binarisation are drawn from a
stream of this rank *and this step*, ``derive_seed(seed, "loop", rank, step)``: a pure function
of where the loop stands, so a checkpoint needs no per-rank generator state, a resume under the
same number of processes repeats every draw, and one under another number still resumes (with
other draws).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from vae_atlas.config import RunConfig
from vae_atlas.models import AutoEncoder
from vae_atlas.models.vae import LossTerms
from vae_atlas.seeds import derive_seed
from vae_atlas.training.distributed import (
    DistributedContext,
    all_reduce_sums,
    check_batches,
    loss_scale,
    on_writer,
    rank_slice,
)
from vae_atlas.training.trainer import Schedule, Trainer, never


class LossForward(nn.Module):
    """The model's training loss as a ``forward`` pass: DistributedDataParallel synchronises
    gradients only for work done through its wrapped module's forward."""

    def __init__(self, model: AutoEncoder) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        x: torch.Tensor,
        *,
        kl_weight: float,
        capacity: float,
        k: int,
        generator: torch.Generator | None,
        scale: float = 1.0,
    ) -> tuple[torch.Tensor, LossTerms]:
        """(loss × ``scale``, to backpropagate; the plain terms, to report)."""
        terms = self.model.loss(x, kl_weight=kl_weight, capacity=capacity, k=k, generator=generator)
        return terms.loss * scale, terms


def wrap_model(model: AutoEncoder, ctx: DistributedContext, device: torch.device) -> nn.Module:
    """``model``'s loss wrapped in DDP (every parameter is used in every step, and the model
    has no running statistics to keep in step)."""
    ids = [ctx.local_rank] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(
        LossForward(model), device_ids=ids, forward_sync_buffers=False
    )


class DistributedTrainer(Trainer):
    """A :class:`Trainer` that is rank ``context.rank`` of ``context.world_size`` processes.

    Its epoch sums, skip decisions and Ctrl-C stops are those of all ranks together, so every
    rank takes the same branch at every step.
    """

    def __init__(
        self,
        model: AutoEncoder,
        train_images: torch.Tensor,
        config: RunConfig,
        generator: torch.Generator,
        *,
        context: DistributedContext,
        device: torch.device | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        n_train, batch = train_images.shape[0], config.train.batch_size
        on_writer(context, lambda: check_batches(batch, n_train, context.world_size))
        super().__init__(model, train_images, config, generator, device=device, optimizer=optimizer)
        self.context = context
        self.world_size = context.world_size
        self.net = wrap_model(model, context, self.device)
        self.noise = torch.Generator(device=self.device)
        self.global_batch = batch
        self.stop_here: Callable[[], bool] = never
        self.peers_stop = False

    def batch_indices(self, start: int) -> torch.Tensor:
        batch = super().batch_indices(start)
        self.global_batch = batch.shape[0]
        return rank_slice(batch, self.context)

    def forward(self, x: torch.Tensor, sched: Schedule) -> tuple[LossTerms, torch.Tensor]:
        tc = self.config.train
        self.noise.manual_seed(derive_seed(tc.seed, "loop", self.context.rank, self.position.step))
        if tc.dynamic_binarization:
            x = torch.bernoulli(x, generator=self.noise)
        x = x.contiguous(memory_format=self.memory_format)
        with torch.autocast(
            self.device.type, dtype=self.autocast, enabled=self.autocast is not None
        ):
            scaled, terms = self.net(
                x,
                kl_weight=sched.kl_weight,
                capacity=sched.capacity,
                k=self.config.model.iwae_k,
                generator=self.noise,
                scale=loss_scale(x.shape[0], self.global_batch, self.world_size),
            )
        return terms, scaled

    def reduce(self, sums: dict[str, float]) -> dict[str, float]:
        # a Ctrl-C seen by any rank rides along, so all of them stop after the same step
        total = all_reduce_sums(sums | {"stop": float(self.stop_here())}, self.context)
        self.peers_stop = total.pop("stop") > 0
        return total

    def run_epoch(
        self,
        interrupted: Callable[[], bool] = never,
        on_batch: Callable[..., None] | None = None,
    ) -> bool:
        self.stop_here = interrupted
        return super().run_epoch(lambda: self.peers_stop, on_batch)
