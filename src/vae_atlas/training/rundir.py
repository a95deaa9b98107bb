"""The run directory as training keeps it: what a new run and a resumed one may start from, the
staging of a new run (a run directory never exists without weights), the one-writer lock, and
every file training writes (config, probe, snapshots, metrics, checkpoint, ``state.json``).

Only a writing process (rank 0) touches the directory: a :class:`RunWriter` made with
``writes=False`` does nothing, so every other process can drive the same calls.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from vae_atlas.checkpoint import (
    CHECKPOINT,
    CONFIG,
    METRICS,
    PROBE,
    SNAPSHOTS,
    STATE,
    WEIGHTS,
    atomic_write_bytes,
    atomic_write_json,
    load_tensors,
    read_header,
    read_json,
    read_metrics,
    read_run_config,
    remove_stale_temporaries,
    save_tensors,
    write_metrics,
)
from vae_atlas.config import RunConfig
from vae_atlas.training import state
from vae_atlas.training.errors import TrainingError
from vae_atlas.training.lock import acquire_run_lock, lock_is_held
from vae_atlas.training.trainer import Trainer

BEST = "best.safetensors"  # the best validation epoch's weights, kept while early stopping


def lock_holder(held: ExitStack, action: str) -> Callable[[Path], None]:
    """Lock a folder for the rest of ``held`` (once per folder: a second flock from this process
    on a new descriptor would conflict with its own first one)."""
    locked: set[Path] = set()

    def hold(folder: Path) -> None:
        if folder.resolve() not in locked:
            held.callback(os.close, acquire_run_lock(folder, action))
            locked.add(folder.resolve())

    return hold


def check_run_dir(run_dir: Path, config: RunConfig, resume: bool, restart: bool) -> bool:
    """Whether ``run_dir`` has a checkpoint to resume; refuses what would lose trained work.
    Reads only; :meth:`RunWriter.open_resumed` then tidies the folder."""
    if resume:
        if not (run_dir / CONFIG).exists():
            raise TrainingError(f"{run_dir}: nothing to resume (no {CONFIG})")
        saved = read_run_config(run_dir)
        differs = replace(saved.train, epochs=config.train.epochs) != config.train
        if saved.data != config.data or saved.model != config.model or differs:
            raise TrainingError(
                f"{run_dir}: --resume needs the run's own config (only train.epochs may change); "
                "omit the other options to reuse config.json"
            )
        return _check_resumable(run_dir, config, restart)
    if restart:
        raise TrainingError("--restart only applies to --resume")
    if run_dir.exists() and any((run_dir / name).exists() for name in (CONFIG, CHECKPOINT)):
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )
    return False


def _check_resumable(run_dir: Path, config: RunConfig, restart: bool) -> bool:
    path = run_dir / CHECKPOINT
    if not path.exists():
        if restart:
            return False
        raise TrainingError(
            f"{path} is missing, so --resume cannot continue this run; to train it again from "
            "epoch 0 with its config (replacing its weights and metrics), add --restart"
        )
    if restart:
        raise TrainingError(
            f"--restart starts a run over only when its checkpoint is missing, and {path} "
            "exists: resume without --restart, or train into another --out"
        )
    _, meta = read_header(path)
    done = meta.get("epoch") if isinstance(meta, dict) else None
    if isinstance(done, int) and config.train.epochs < done:
        raise TrainingError(
            f"--epochs {config.train.epochs} is fewer than the {done} epochs {run_dir} has "
            "completed; a resume never drops trained epochs (train a shorter run into another "
            "--out)"
        )
    return True


def create_run(
    target: Path, write_initial: Callable[[Path], None], hold: Callable[[Path], None]
) -> None:
    """Create a new run directory atomically: fill a hidden staging directory, then rename it.

    A crash during set-up leaves at most a hidden ``.NAME.*`` directory, never a run directory
    without weights. A pre-existing non-empty ``target`` (holding no run) is filled in place.
    ``hold`` locks the folder being filled; the staging folder's lock becomes the run's.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and any(target.iterdir()):
        hold(target)
        if (target / CHECKPOINT).exists():  # another process set it up since it was checked
            raise TrainingError(f"{target} already holds a run; choose another --out")
        (target / SNAPSHOTS).mkdir(exist_ok=True)
        write_initial(target)
        return
    for other in target.parent.glob(f".{glob.escape(target.name)}.*.staging"):
        # a killed set-up's leftovers; one whose lock is held is another process's set-up,
        # still being filled: it ends in a run or is refused ("created ... meanwhile")
        if not lock_is_held(other):
            shutil.rmtree(other, ignore_errors=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
    )
    staging.chmod(0o755)  # mkdtemp makes it private; a run directory is an ordinary folder
    try:
        hold(staging)
        (staging / SNAPSHOTS).mkdir()
        write_initial(staging)
        try:
            os.replace(staging, target)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise TrainingError(
                f"{target} was created by another process meanwhile; choose another --out"
            ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class RunWriter:
    """Every write training makes into ``run_dir``; all of them no-ops unless ``writes``."""

    def __init__(self, run_dir: Path, config: RunConfig, *, writes: bool = True) -> None:
        self.run_dir, self.config, self.writes = run_dir, config, writes

    def open_resumed(self, metrics: list[dict[str, Any]]) -> None:
        """Tidy a run that passed its resume checks: drop temporaries a killed writer left, and
        write its config and the metrics rows its checkpoint covers."""
        if not self.writes:
            return
        remove_stale_temporaries(self.run_dir)
        (self.run_dir / SNAPSHOTS).mkdir(exist_ok=True)
        self.write_config()
        write_metrics(self.run_dir / METRICS, metrics)

    def restart(self) -> None:
        """``--restart``: the run starts over with its own config."""
        if self.writes:
            remove_stale_temporaries(self.run_dir)
            (self.run_dir / SNAPSHOTS).mkdir(exist_ok=True)
            self.write_config()

    def write_config(self) -> None:
        if self.writes:
            atomic_write_bytes(self.run_dir / CONFIG, self.config.to_json().encode())

    def save_probe(self, index: torch.Tensor, labels: torch.Tensor | None) -> None:
        if self.writes:
            tensors = {"index": index} if labels is None else {"index": index, "labels": labels}
            save_tensors(self.run_dir / SNAPSHOTS / PROBE, tensors)

    def snapshot(self, epoch: int, codes: dict[str, torch.Tensor]) -> None:
        if self.writes:
            name = f"epoch_{epoch:04d}.safetensors"
            save_tensors(self.run_dir / SNAPSHOTS / name, codes, {"epoch": epoch})

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        if self.writes:
            write_metrics(self.run_dir / METRICS, rows)

    def append_metrics(self, row: dict[str, Any]) -> None:
        if self.writes:
            write_metrics(self.run_dir / METRICS, read_metrics(self.run_dir / METRICS) + [row])

    def save_checkpoint(self, trainer: Trainer) -> None:
        if self.writes:
            state.save_checkpoint(
                self.run_dir,
                trainer.model,
                trainer.optimizer,
                trainer.generator,
                trainer.position,
                world_size=trainer.world_size,
                scaler=trainer.scaler,
            )

    def save_best(self, weights: dict[str, torch.Tensor], epoch: int) -> None:
        if self.writes:
            save_tensors(self.run_dir / BEST, weights, {"epoch": epoch})

    def keep_best(self, epoch: int, step: int) -> None:
        """End with the best validation epoch's weights (kept by :meth:`save_best`) as the
        run's model; the checkpoint keeps the last epoch's for ``--resume``."""
        if self.writes:
            weights, _ = load_tensors(self.run_dir / BEST)
            save_tensors(self.run_dir / WEIGHTS, weights, {"epoch": epoch, "step": step})

    def write_state(self, status: str, epoch: int, message: str = "", **extra: Any) -> None:
        if self.writes:
            atomic_write_json(
                self.run_dir / STATE,
                {
                    "status": status,
                    "epochs_completed": epoch,
                    "epochs": self.config.train.epochs,
                    "message": message,
                    **extra,
                },
            )

    @contextmanager
    def writing(self, last_good_epoch: int) -> Iterator[None]:
        """Turn a failing write (disk full, read-only folder) into a clear TrainingError."""
        try:
            yield
        except OSError as exc:
            raise TrainingError(
                f"could not write to {self.run_dir}: {exc.strerror or exc} "
                f"({getattr(exc, 'filename', None) or 'run file'}). The run still loads and "
                f"resumes from its last complete checkpoint (epoch {last_good_epoch} or later); "
                f"free space or fix permissions, then vae-atlas train --resume --out {self.run_dir}"
            ) from None


def resumed_metrics(run_dir: Path, epoch: int) -> list[dict[str, Any]]:
    """The run's metrics rows up to its checkpoint's ``epoch`` (newer rows, written before a
    crash that cost their checkpoint, are trained again)."""
    return [m for m in read_metrics(run_dir / METRICS) if m["epoch"] <= epoch]


def load_state(run_dir: Path) -> dict[str, Any]:
    """The run's state.json (status, epochs completed, message)."""
    return read_json(Path(run_dir) / STATE)
