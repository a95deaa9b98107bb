"""Several training processes under ``torchrun``: PyTorch's DistributedDataParallel (Li et al.
2020, "PyTorch Distributed: Experiences on Accelerating Data Parallel Training"), gloo on CPU and
NCCL on CUDA.

The pieces here are what the training loop needs on top of DDP to stay exactly the
single-process algorithm:

- every rank draws the same seeded permutation and trains on its own slice of each *global*
  batch (:func:`rank_slice`), so the images of one step are the ones a single process would use;
- DDP averages gradients over the ranks, and a rank's loss is a mean over its own slice, so the
  loss is scaled by :func:`loss_scale` to make that average the gradient of the mean over the
  whole global batch (also when the last batch does not split evenly);
- metric sums are all-reduced (:func:`all_reduce_sums`) so rank 0's epoch row is the global one;
- rank 0 decides what every rank must agree on (:func:`on_writer`).

:class:`~vae_atlas.training.distributed_trainer.DistributedTrainer` puts them into the step.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import torch
import torch.distributed as dist

from vae_atlas.checkpoint import CHECKPOINT, RunFileError, read_header
from vae_atlas.config import ConfigError
from vae_atlas.training.errors import TrainingError

# A peer that stops answering (hung, or killed without its connection closing) fails the
# survivors' next collective after this long instead of hanging them forever; held-out
# evaluation and checkpoint writes on rank 0 must fit inside it.
COLLECTIVE_TIMEOUT_S = 300.0

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
# set on an error another rank received from rank 0: rank 0 reports it, the others need not
FROM_WRITER = "raised_on_writer"

T = TypeVar("T")


class DistributedError(TrainingError):
    """The distributed set-up is unusable or a peer process was lost; the message says which."""


class PeerLost(DistributedError):
    """Another process of the run died or stopped answering, or torchrun stopped this one."""


@dataclass(frozen=True, kw_only=True)
class DistributedContext:
    """Where this process stands among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise DistributedError(f"RANK={self.rank} is not in [0, WORLD_SIZE={self.world_size})")
        if self.local_world_size < 1 or not 0 <= self.local_rank < self.local_world_size:
            raise DistributedError(
                f"LOCAL_RANK={self.local_rank} is not in "
                f"[0, LOCAL_WORLD_SIZE={self.local_world_size})"
            )

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def writes(self) -> bool:
        """Only rank 0 writes run files, prints progress and evaluates held-out data."""
        return self.rank == 0


def context_from_env(env: Mapping[str, str] | None = None) -> DistributedContext:
    """The context torchrun describes in ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/
    ``LOCAL_WORLD_SIZE``; a single process when none is set."""
    env = os.environ if env is None else env
    if not any(name in env for name in TORCHRUN_VARIABLES):
        return DistributedContext()
    values: dict[str, int] = {}
    for name in TORCHRUN_VARIABLES:
        raw = env.get(name, "0" if name.endswith("RANK") else env.get("WORLD_SIZE", "1"))
        try:
            values[name.lower()] = int(raw)
        except ValueError:
            raise DistributedError(f"{name}={raw!r} is not an integer") from None
    return DistributedContext(**values)


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def threads_per_rank(cpu_count: int, local_world_size: int) -> int:
    """CPU threads for each of ``local_world_size`` processes sharing ``cpu_count`` cores:
    more threads than cores makes the ranks preempt each other in every matmul."""
    return max(1, cpu_count // max(local_world_size, 1))


@contextmanager
def process_group(
    ctx: DistributedContext, device: torch.device, *, timeout_s: float = COLLECTIVE_TIMEOUT_S
) -> Iterator[None]:
    """Join the torchrun process group for the duration of the block (nothing for one process).

    torchrun provides the rendezvous (``MASTER_ADDR``/``MASTER_PORT``) in the environment.
    """
    if not ctx.distributed:
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(ctx.local_rank)
    try:
        dist.init_process_group(
            backend_for(device),
            rank=ctx.rank,
            world_size=ctx.world_size,
            timeout=timedelta(seconds=timeout_s),
        )
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(
            f"rank {ctx.rank}: could not join the process group ({exc})"
        ) from None
    try:
        yield
    finally:
        with suppress(RuntimeError, ValueError):  # a lost peer must not hide the real error
            dist.destroy_process_group()


def check_batches(batch_size: int, n_train: int, world_size: int) -> None:
    """Refuse a global batch the ranks cannot share: every rank needs an equal slice of each
    full batch and at least one image of the last one."""
    if batch_size % world_size:
        raise ConfigError(
            f"--batch-size {batch_size} does not divide by the world size {world_size} "
            f"(torchrun --nproc-per-node); choose a multiple of {world_size}"
        )
    last = n_train % batch_size or batch_size
    if n_train and last < world_size:
        raise ConfigError(
            f"--batch-size {batch_size} leaves a last batch of {last} of the {n_train} training "
            f"images, fewer than the world size {world_size}; choose another --batch-size"
        )


def rank_slice(global_batch: torch.Tensor, ctx: DistributedContext) -> torch.Tensor:
    """This rank's share of one global batch (B, ...): contiguous, sizes differ by at most 1."""
    return torch.tensor_split(global_batch, ctx.world_size)[ctx.rank]


def loss_scale(n_rank: int, n_global: int, world_size: int) -> float:
    """Factor on a rank's mean-over-slice loss so that DDP's average over ranks,
    (1/W) Σ_r s_r (1/b_r) Σ_{i∈r} ∇ℓ_i, equals the mean over the global batch (1/B) Σ_i ∇ℓ_i:
    s_r = W b_r / B."""
    return world_size * n_rank / n_global


def all_reduce_sums(sums: Mapping[str, float], ctx: DistributedContext) -> dict[str, float]:
    """Element-wise sum of every rank's ``sums`` (same keys on every rank), in float64."""
    if not ctx.distributed:
        return dict(sums)
    keys = sorted(sums)
    device = torch.device("cuda", ctx.local_rank) if dist.get_backend() == "nccl" else "cpu"
    values = torch.tensor([sums[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return dict(zip(keys, values.tolist(), strict=True))


def on_writer(ctx: DistributedContext, action: Callable[[], T]) -> T:
    """Run ``action`` on rank 0 only and hand its result, or the error it raised, to every rank:
    the writer decides (set-up checks, held-out numbers) and the others follow.

    On the other ranks the error is raised again with ``FROM_WRITER`` set on it, so a command
    line can leave the report to rank 0.
    """
    if not ctx.distributed:
        return action()
    box: list[object] = [None]
    if ctx.writes:
        try:
            box[0] = ("ok", action())
        except Exception as exc:
            box[0] = ("error", _picklable(exc))
            dist.broadcast_object_list(box, src=0)
            raise
    dist.broadcast_object_list(box, src=0)
    kind, value = box[0]  # type: ignore[misc]
    if kind == "error":
        setattr(value, FROM_WRITER, True)
        raise value
    return value  # type: ignore[no-any-return]


def _picklable(exc: Exception) -> Exception:
    """``exc`` rebuilt from its type and message, which is how the other ranks will rebuild it
    from the broadcast; an exception type that cannot be rebuilt that way becomes a
    :class:`DistributedError` with the same message."""
    try:
        return type(exc)(str(exc))
    except Exception:
        return DistributedError(str(exc))


TORCHRUN_STOPPED = "torchrun stopped this process (another one failed, or it was stopped)"


@contextmanager
def stop_on_sigterm(ctx: DistributedContext, run_dir: Path) -> Iterator[None]:
    """Under torchrun, turn SIGTERM into a :class:`PeerLost` that already says how to continue
    the run: the launcher sends it to the surviving processes when one of them died, and this
    one should say so and leave through the run's error handling instead of vanishing.

    Only the first SIGTERM raises. It can land while this process is already saying why a
    collective failed, and then its own exception is the one that leaves, so it carries the
    whole message too."""
    if not ctx.distributed or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise PeerLost(lost_peer_message(ctx, TORCHRUN_STOPPED, run_dir))

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def is_peer_lost(ctx: DistributedContext, exc: BaseException) -> bool:
    """Whether ``exc`` means another process of the run is gone: a collective that failed
    (gloo reports a closed connection or a timeout) or torchrun's SIGTERM."""
    if not ctx.distributed or (isinstance(exc, TrainingError) and not isinstance(exc, PeerLost)):
        return False
    return isinstance(exc, (PeerLost, dist.DistError)) or "gloo" in str(exc).lower()


def lost_peer_message(ctx: DistributedContext, exc: BaseException | str, run_dir: Path) -> str:
    """What a surviving rank says: which rank, why, and how to continue the run. A
    :class:`PeerLost` from :func:`stop_on_sigterm` already says it and is kept as it is."""
    if isinstance(exc, PeerLost):
        return str(exc)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    done = checkpoint_epoch(run_dir)
    kept = f"after epoch {done}" if done is not None else "none yet"
    return (
        f"rank {ctx.rank}: lost another process of this run ({reason}); the run keeps its last "
        f"complete checkpoint ({kept}). Continue with: torchrun --nproc-per-node "
        f"{ctx.world_size} -m vae_atlas.cli train --resume --out {run_dir}"
    )


def checkpoint_epoch(run_dir: Path) -> int | None:
    """The epochs the run's checkpoint has completed, None without a readable one."""
    try:
        _, meta = read_header(run_dir / CHECKPOINT)
    except (OSError, RunFileError):
        return None
    epoch = meta.get("epoch") if isinstance(meta, dict) else None
    return epoch if isinstance(epoch, int) else None


def saved_world_size(run_dir: Path) -> int:
    """How many processes trained the run's checkpoint (1 when it does not say)."""
    path = run_dir / CHECKPOINT
    _, meta = read_header(path)
    value = meta.get("world_size", 1) if isinstance(meta, dict) else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RunFileError(f"{path}: metadata field 'world_size'={value!r} must be an integer >= 1")
    return value


def note_world_size(run_dir: Path, ctx: DistributedContext, log: Callable[[str], None]) -> None:
    """Say so when a run resumes under another number of processes than it was trained by."""
    saved = saved_world_size(run_dir)
    if saved != ctx.world_size:
        log(
            f"{run_dir} was trained by {saved} process{'es' if saved > 1 else ''} and continues "
            f"with {ctx.world_size}: the same batches and schedules, other reparameterisation "
            f"noise, so its weights will not be bit-identical to an uninterrupted {saved}-"
            "process run"
        )


__all__ = [
    "COLLECTIVE_TIMEOUT_S",
    "DistributedContext",
    "DistributedError",
    "FROM_WRITER",
    "PeerLost",
    "checkpoint_epoch",
    "is_peer_lost",
    "lost_peer_message",
    "note_world_size",
    "saved_world_size",
    "all_reduce_sums",
    "backend_for",
    "check_batches",
    "context_from_env",
    "loss_scale",
    "on_writer",
    "process_group",
    "rank_slice",
    "stop_on_sigterm",
    "threads_per_rank",
]
