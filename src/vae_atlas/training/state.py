"""The resumable state of a training loop and its (atomic, pickle-free) checkpoint file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from vae_atlas.checkpoint import CHECKPOINT, WEIGHTS, load_tensors, save_tensors
from vae_atlas.seeds import DERIVATION
from vae_atlas.training.checkpoint_checks import check_checkpoint, check_scaler_state


@dataclass
class LoopPosition:
    """Where the loop stands: ``epoch`` epochs are complete; inside the next one, ``batch_index``
    batches of ``perm`` are done (0 and None at an epoch boundary). ``sums`` are the running sums
    of the current epoch's training metrics (exact floats, so a resumed epoch reports the same)."""

    epoch: int = 0
    step: int = 0
    batch_index: int = 0
    perm: torch.Tensor | None = None
    sums: dict[str, float] = field(default_factory=dict)
    epoch_seconds: float = 0.0
    skipped_batches: int = 0


def save_checkpoint(
    run_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    pos: LoopPosition,
    *,
    world_size: int = 1,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """Write model.safetensors, then checkpoint.safetensors (everything --resume needs;
    ``world_size``: how many processes trained the run; ``scaler``: fp16's loss scaler, whose
    scale and growth count a resumed run must continue from to take the same steps)."""
    weights = {k: v for k, v in model.state_dict().items()}
    tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in weights.items()}
    opt_state = optimizer.state_dict()
    for idx, slots in opt_state["state"].items():
        for key, value in slots.items():
            tensors[f"optim.{idx}.{key}"] = torch.as_tensor(value)
    tensors["rng.train"] = generator.get_state()
    if pos.perm is not None:
        tensors["loop.perm"] = pos.perm
    meta = {
        "epoch": pos.epoch,
        "step": pos.step,
        "batch_index": pos.batch_index,
        "sums": {k: repr(v) for k, v in pos.sums.items()},
        "epoch_seconds": pos.epoch_seconds,
        "skipped_batches": pos.skipped_batches,
        "param_groups": opt_state["param_groups"],
        "rng_device": str(generator.device),
        "seeds": DERIVATION,
        "world_size": world_size,
    }
    if scaler is not None and scaler.is_enabled():
        scaler_state = scaler.state_dict()
        meta["scaler"] = {
            "scale": scaler_state["scale"],
            "growth_tracker": scaler_state["_growth_tracker"],
        }
    # weights first: if the checkpoint write then fails, --resume repeats this epoch from the
    # previous checkpoint and rewrites the weights, so the two never disagree after a resume
    save_tensors(run_dir / WEIGHTS, weights, {"epoch": pos.epoch, "step": pos.step})
    save_tensors(run_dir / CHECKPOINT, tensors, meta)


def load_checkpoint(
    run_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    *,
    n_train: int,
    batch_size: int,
    scaler: torch.amp.GradScaler | None = None,
) -> LoopPosition:
    """Restore model, optimizer, RNG (and fp16's loss ``scaler`` when the run saved one) from
    checkpoint.safetensors; return the loop position.

    Every tensor and field is checked against the model and the data (``n_train`` training
    images in batches of ``batch_size``) before any of them is restored.
    """
    path = run_dir / CHECKPOINT
    tensors, meta = load_tensors(path)
    checked = check_checkpoint(
        path,
        tensors,
        meta,
        model=model,
        optimizer=optimizer,
        generator=generator,
        n_train=n_train,
        batch_size=batch_size,
    )
    saved_scaler = check_scaler_state(path, meta)
    model.load_state_dict(checked.weights)
    optimizer.load_state_dict(checked.optimizer_state)
    generator.set_state(checked.rng_state)
    if scaler is not None and scaler.is_enabled() and saved_scaler is not None:
        scaler.load_state_dict(
            {
                **scaler.state_dict(),
                "scale": saved_scaler["scale"],
                "_growth_tracker": saved_scaler["growth_tracker"],
            }
        )
    perm = None if checked.perm is None else checked.perm.to(generator.device)
    return LoopPosition(perm=perm, **checked.position)
