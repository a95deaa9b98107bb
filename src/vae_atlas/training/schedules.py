"""Pure step -> value schedules (nanoGPT's ``get_lr(it)`` style): learning rate, KL weight β(t)
with linear warm-up, and the capacity target C(t) of Burgess et al. (2018)."""

from __future__ import annotations

import math


def lr_at(step: int, *, lr: float, total_steps: int, final_fraction: float = 1.0) -> float:
    """Cosine decay from ``lr`` to ``lr * final_fraction`` over ``total_steps`` (constant if 1)."""
    if final_fraction == 1.0 or total_steps <= 1:
        return lr
    progress = min(1.0, step / (total_steps - 1))
    floor = lr * final_fraction
    return floor + 0.5 * (lr - floor) * (1.0 + math.cos(math.pi * progress))


def kl_weight_at(step: int, *, beta: float, warmup_steps: int) -> float:
    """β ramped linearly from 0 (well, β/warmup_steps at step 0) to β over ``warmup_steps``."""
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, (step + 1) / warmup_steps)


def capacity_at(step: int, *, capacity_max: float, capacity_steps: int) -> float:
    """KL capacity target C, linear from 0 to ``capacity_max`` nats over ``capacity_steps``."""
    if capacity_max <= 0:
        return 0.0
    return capacity_max * min(1.0, step / capacity_steps)
