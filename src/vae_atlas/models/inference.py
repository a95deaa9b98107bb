"""Running a model for inference: evaluation mode that is always undone, and batched encoding.

Every analysis, the training loop's held-out numbers and the explorer switch a model to eval mode
(dropout off, batch-norm statistics frozen) and must hand it back as it was — also when an
encoder raises halfway through a dataset, or a caller's training continues in eval mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def encode_stream(
    model: nn.Module,
    chunks: Iterable[torch.Tensor],
    *,
    scale: float = 1.0,
    labels: Iterable[torch.Tensor] | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Posterior means (B, D) and log-variances (B, D), or None for a deterministic encoder,
    of each chunk of images (B, C, H, W), on the CPU in the model's dtype, in eval mode.

    Each chunk is moved to the model's device as float32 and multiplied by ``scale`` (1/255 for
    uint8 pixels) only when its turn comes, so a caller that keeps nothing but the codes holds
    one chunk of images at a time, however many there are. A conditional model is given each
    chunk's ``labels`` (B,) too.
    """
    device = model_device(model)
    label_chunks = iter(labels) if labels is not None else None
    with eval_mode(model), torch.no_grad():
        for chunk in chunks:
            given = () if label_chunks is None else (next(label_chunks).to(device),)
            mu, logvar = model.encode(chunk.to(device=device, dtype=torch.float32) * scale, *given)
            yield mu.cpu(), None if logvar is None else logvar.cpu()


def collect_codes(
    stream: Iterable[tuple[torch.Tensor, torch.Tensor | None]],
    n: int,
    *,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The (B, D) code chunks of ``stream`` (as :func:`encode_stream` yields them) written into
    one (N, D) array each, allocated once in ``dtype`` (default: the codes' own), so peak memory
    is the N×D codes plus one chunk. (None, None) for an empty stream."""
    mu = logvar = None
    start = 0
    for mu_b, logvar_b in stream:
        if mu is None:
            mu = torch.empty((n, mu_b.shape[1]), dtype=dtype or mu_b.dtype)  # (N, D)
            logvar = None if logvar_b is None else torch.empty_like(mu)
        stop = start + mu_b.shape[0]
        mu[start:stop] = mu_b
        if logvar is not None and logvar_b is not None:
            logvar[start:stop] = logvar_b
        start = stop
    return mu, logvar


def encode_batches(
    model: nn.Module,
    x: torch.Tensor,
    *,
    batch_size: int = 1024,
    scale: float = 1.0,
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Posterior means (N, D) and log-variances (N, D), or None for a deterministic encoder, of
    images ``x`` (N, C, H, W) (and, for a conditional model, their ``labels`` (N,)), on the CPU
    in the model's dtype, ``batch_size`` at a time (see :func:`encode_stream` and
    :func:`collect_codes`)."""
    n = x.shape[0]
    starts = range(0, n, batch_size)
    batches = (x[start : start + batch_size] for start in starts)
    label_batches = None if labels is None else (labels[s : s + batch_size] for s in starts)
    mu, logvar = collect_codes(encode_stream(model, batches, scale=scale, labels=label_batches), n)
    if mu is None:
        return torch.zeros(0, int(getattr(model, "latent_dim", 0))), None
    return mu, logvar
