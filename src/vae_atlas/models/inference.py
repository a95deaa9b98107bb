"""Running a model for inference: evaluation mode that is always undone, and batched encoding.

Every analysis, the training loop's held-out numbers and the explorer switch a model to eval mode
(dropout off, batch-norm statistics frozen) and must hand it back as it was — also when an
encoder raises halfway through a dataset, or a caller's training continues in eval mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode for the ``with`` block; its previous mode is restored on exit,
    exceptions included."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a model without parameters)."""
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


@torch.no_grad()
def encode_batches(
    model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024, scale: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Posterior means (N, D) and log-variances (N, D), or None for a deterministic encoder, of
    images ``x`` (N, C, H, W), on the CPU in the model's dtype.

    Each batch is moved to the model's device as float32 and multiplied by ``scale`` (1/255 for
    uint8 pixels), so only one batch is ever converted and memory stays bounded.
    """
    device = model_device(model)
    mus, logvars = [], []
    with eval_mode(model):
        for start in range(0, x.shape[0], batch_size):
            xb = x[start : start + batch_size].to(device=device, dtype=torch.float32) * scale
            mu, logvar = model.encode(xb)
            mus.append(mu.cpu())
            if logvar is not None:
                logvars.append(logvar.cpu())
    if not mus:
        return torch.zeros(0, int(getattr(model, "latent_dim", 0))), None
    return torch.cat(mus), (torch.cat(logvars) if logvars else None)
