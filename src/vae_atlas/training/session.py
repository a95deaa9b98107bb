"""One call of :func:`vae_atlas.training.train` once its run directory and data are settled:
epochs driven through the :class:`Trainer`, every epoch's files written through the
:class:`RunWriter`, the callers' hooks called, and each way of ending (complete, stopped,
interrupted, diverged, a second Ctrl-C) recorded in ``state.json``."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vae_atlas.checkpoint import read_run_config
from vae_atlas.training.distributed import DistributedContext, on_writer
from vae_atlas.training.errors import TrainingDiverged, TrainingInterrupted
from vae_atlas.training.heldout import HeldOutSets, epoch_row, probe_codes
from vae_atlas.training.progress import EpochBar, StopFlag, epoch_line, stop_on_sigint
from vae_atlas.training.rundir import RunWriter, create_run, load_state, resumed_metrics
from vae_atlas.training.state import load_checkpoint
from vae_atlas.training.stopping import EarlyStopping
from vae_atlas.training.trainer import EpochTotals, Trainer

MetricsRow = dict[str, Any]


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` leaves behind: the run directory, its metrics and how it ended
    (``status``: "complete", "stopped" by ``should_stop`` or early stopping, "interrupted")."""

    run_dir: Path
    status: str
    epochs_completed: int
    metrics: list[MetricsRow]
    seconds: float
    message: str = ""
    best_epoch: int | None = None  # early stopping: the epoch whose weights the model holds

    @property
    def final(self) -> MetricsRow:
        """The metrics of the weights the run ends with (the best epoch's under early
        stopping, else the last epoch's)."""
        if not self.metrics:
            return {}
        return self.metrics[-1] if self.best_epoch is None else self.metrics[self.best_epoch]


@dataclass(frozen=True)
class Watchers:
    """Callers' hooks: ``on_epoch_end(row)`` after each trained epoch's files are written;
    ``should_stop(rows)`` with every row so far (epoch 0 first), after each epoch and once
    when a run resumes — True ends training with status "stopped"."""

    on_epoch_end: Callable[[MetricsRow], None] | None = None
    should_stop: Callable[[list[MetricsRow]], bool] | None = None


class TrainingSession:
    """Drives ``trainer`` epoch by epoch and keeps the run's files through ``writer``."""

    def __init__(
        self,
        trainer: Trainer,
        sets: HeldOutSets,
        writer: RunWriter,
        watchers: Watchers,
        *,
        progress: str,
        log: Callable[[str], None],
        context: DistributedContext | None = None,
    ) -> None:
        self.trainer, self.sets, self.writer, self.watchers = trainer, sets, writer, watchers
        self.progress, self.log = progress, log
        self.context = context or DistributedContext()
        self.epochs = trainer.config.train.epochs
        self.early = EarlyStopping.of(trainer.config.train.early_stop)

    @property
    def run_dir(self) -> Path:
        return self.writer.run_dir

    def run(self, *, resume: bool, hold: Callable[[Path], None]) -> TrainResult:
        started = time.perf_counter()
        # Ctrl-C from here on only sets a flag, checked between steps: set-up and every write
        # finish, and the loop then saves its exact position
        with stop_on_sigint() as flag:
            rows = self._resume() if resume else self._start(hold)
            pos = self.trainer.position
            try:
                self.writer.write_state("running", pos.epoch)
                stopped = resume and self._stops(rows)
                while not stopped and pos.epoch < self.epochs:
                    if not self._train_epoch(flag):
                        msg = self._interrupted()
                        seconds = time.perf_counter() - started
                        return TrainResult(
                            self.run_dir, "interrupted", pos.epoch, rows, seconds, msg
                        )
                    self._end_epoch(rows)
                    stopped = self._stops(rows)
                status = "stopped" if stopped and pos.epoch < self.epochs else "complete"
                message = self._finish(status, rows)
            except KeyboardInterrupt:  # a second Ctrl-C: no time to save, but say how to go on
                raise self._abandoned() from None
        seconds = time.perf_counter() - started
        best = None if self.early is None else self.early.best_epoch(rows)
        return TrainResult(self.run_dir, status, pos.epoch, rows, seconds, message, best)

    def _stops(self, rows: list[MetricsRow]) -> bool:
        rule = self.watchers.should_stop
        return rule is not None and len(rows) > 1 and bool(rule(rows))

    def _resume(self) -> list[MetricsRow]:
        t = self.trainer
        position = load_checkpoint(
            self.run_dir,
            t.model,
            t.optimizer,
            t.generator,
            n_train=t.train_x.shape[0],
            batch_size=t.config.train.batch_size,
            scaler=t.scaler,
        )
        t.restore(position)
        pos = t.position
        rows = resumed_metrics(self.run_dir, pos.epoch)
        saved = read_run_config(self.run_dir).train.epochs
        # written only now that the checkpoint passed its checks: a refused resume changes nothing
        self.writer.open_resumed(rows)
        self.log(f"resuming {self.run_dir} after epoch {pos.epoch}, step {pos.step}")
        if saved != self.epochs:
            self.log(
                f"training to {self.epochs} epochs instead of {saved} (config.json "
                f"now says {self.epochs}; the learning-rate schedule spans them all)"
            )
        return rows

    def _start(self, hold: Callable[[Path], None]) -> list[MetricsRow]:
        rows = [self._scored(None)]
        writer, target = self.writer, self.writer.run_dir
        if not writer.writes:
            return rows

        def write_initial(folder: Path) -> None:
            writer.run_dir = folder
            writer.write_config()
            writer.save_probe(self.sets.probe_index, self._probe_labels())
            self._save_epoch_files(rows)

        try:
            create_run(target, write_initial, hold)
        finally:
            writer.run_dir = target
        return rows

    def _probe_labels(self) -> torch.Tensor | None:
        labels = self.sets.test_labels
        return None if labels is None else labels[self.sets.probe_index]

    def _save_epoch_files(self, rows: list[MetricsRow]) -> None:
        """The files of the epoch ``rows[-1]`` describes. Metrics before the checkpoint: a
        crash in between re-runs this epoch on resume, and resume drops metrics rows newer
        than the checkpoint, so nothing is lost or doubled."""
        t, w = self.trainer, self.writer
        if w.writes:
            w.snapshot(t.position.epoch, probe_codes(t.model, self.sets))
        if len(rows) == 1:
            w.write_metrics(rows)
        else:
            w.append_metrics(rows[-1])
        if self.early is not None and self.early.best_epoch(rows) == t.position.epoch:
            w.save_best(t.model.state_dict(), t.position.epoch)
        w.save_checkpoint(t)

    def _scored(self, totals: EpochTotals | None) -> MetricsRow:
        """The epoch's metrics row, scored by rank 0 alone and handed to every rank (so early
        stopping and ``should_stop`` decide the same everywhere)."""
        return on_writer(self.context, lambda: epoch_row(self.trainer, self.sets, totals))

    def _train_epoch(self, flag: StopFlag) -> bool:
        pos = self.trainer.position
        bar = EpochBar(
            epoch=pos.epoch,
            epochs=self.epochs,
            batches=self.trainer.steps_per_epoch,
            done=pos.batch_index,
            show=self.progress == "bar",
        )
        try:
            return self.trainer.run_epoch(
                flag, lambda p, seconds: bar.update(p.batch_index, p.sums, seconds)
            )
        except TrainingDiverged as exc:
            raise self._diverged(str(exc)) from None
        finally:
            bar.close()

    def _end_epoch(self, rows: list[MetricsRow]) -> None:
        try:
            totals = self.trainer.end_epoch()
        except TrainingDiverged as exc:
            raise self._diverged(str(exc)) from None
        epoch = self.trainer.position.epoch
        rows.append(self._scored(totals))
        with self.writer.writing(epoch - 1):
            self._save_epoch_files(rows)
            self.writer.write_state("running", epoch)
        if self.progress == "lines":
            self.log(epoch_line(rows[-1], self.epochs))
        if self.watchers.on_epoch_end is not None:
            self.watchers.on_epoch_end(rows[-1])

    def _finish(self, status: str, rows: list[MetricsRow]) -> str:
        epoch = self.trainer.position.epoch
        message, extra = "", {}
        if self.early is not None:
            best = self.early.best_epoch(rows)
            with self.writer.writing(epoch):
                self.writer.keep_best(best, rows[best]["step"])
            message = self.early.describe(rows, stopped=status == "stopped")
            extra = {"best_epoch": best}
        elif status == "stopped":
            message = f"stopped after epoch {epoch} of {self.epochs}: should_stop said so"
        self.writer.write_state(status, epoch, message, **extra)
        if message:
            self.log(message)
        return message

    def _diverged(self, where: str) -> TrainingDiverged:
        msg = (
            f"{where} The last good checkpoint (after epoch {self.trainer.position.epoch}) is "
            f"kept in {self.run_dir}. Try a lower --lr, --grad-clip, or --nan-policy skip to "
            "skip such batches."
        )
        with suppress(OSError):  # the divergence is the news; a failing write must not hide it
            self.writer.write_state("diverged", self.trainer.position.epoch, msg)
        return TrainingDiverged(msg)

    def _interrupted(self) -> str:
        pos = self.trainer.position
        with self.writer.writing(pos.epoch):
            self.writer.save_checkpoint(self.trainer)
        msg = (
            f"interrupted at epoch {pos.epoch + 1}, step {pos.step}; saved. Continue with: "
            f"vae-atlas train --resume --out {self.run_dir}"
        )
        self.writer.write_state("interrupted", pos.epoch, msg)
        self.log(msg)
        return msg

    def _abandoned(self) -> TrainingInterrupted:
        msg = (
            "stopped before saving; the run keeps its last checkpoint. Continue with: "
            f"vae-atlas train --resume --out {self.run_dir}"
        )
        with suppress(OSError, KeyboardInterrupt):
            if self.writer.writes:
                state = load_state(self.run_dir)
                self.writer.write_state("interrupted", state.get("epochs_completed", 0), msg)
        return TrainingInterrupted(msg)
