"""``vae-atlas train --tensorboard [DIR] --mlflow [URI]``: experiment trackers that listen to
training through ``train(on_epoch_end=...)`` (training itself never imports them)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vae_atlas.config import ConfigError, RunConfig
from vae_atlas.data import Dataset
from vae_atlas.integrations import require

FAILED = "failed"  # the status trackers are finished with when train() raised


def add_tracker_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("experiment trackers")
    g.add_argument(
        "--tensorboard",
        nargs="?",
        const="",
        metavar="DIR",
        help="write TensorBoard logs: per-epoch scalars, reconstructions and prior samples, the "
        "latent means in the embedding projector at the end (default DIR: OUT/tensorboard)",
    )
    g.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="log the config as params, per-epoch metrics and, at the end, the run files to "
        "MLflow (default URI: sqlite:///mlflow.db in this folder, artifacts in mlruns/ beside it; "
        "'vae-atlas export mlflow OUT' adds the report and evaluation.json)",
    )
    g.add_argument(
        "--mlflow-experiment", default="vae-atlas", metavar="NAME", help="MLflow experiment"
    )


def check_tracker_packages(args: argparse.Namespace) -> None:
    """Refuse a tracker whose package is missing before any data is read or trained."""
    if args.tensorboard is not None:
        require("tensorboard", "--tensorboard")
    if args.mlflow is not None:
        require("mlflow", "--mlflow")


def tensorboard_dir(args: argparse.Namespace, run_dir: Path) -> Path:
    return Path(args.tensorboard) if args.tensorboard else run_dir / "tensorboard"


def mlflow_uri(given: str | None) -> str:
    """The ``--mlflow`` URI: the one given, else MLflow's default store made absolute."""
    from vae_atlas.integrations.mlflow import default_tracking_uri

    if given is None or not given.strip():
        return default_tracking_uri()
    return given


@dataclass(frozen=True)
class Trackers:
    """The trackers a ``train`` command was given: one ``on_epoch_end`` for them all, and
    ``finish`` once training returns or fails."""

    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    finishers: list[Callable[[str], None]] = field(default_factory=list)

    @property
    def on_epoch_end(self) -> Callable[[dict[str, Any]], None] | None:
        if not self.listeners:
            return None

        def call_all(row: dict[str, Any]) -> None:
            for listener in self.listeners:
                listener(row)

        return call_all

    def finish(self, status: str) -> None:
        """End every tracker; after a failed ``train`` a tracker's own error must not hide
        the failure, so it is dropped."""
        for finisher in self.finishers:
            if status == FAILED:
                with contextlib.suppress(Exception):
                    finisher(status)
            else:
                finisher(status)


def trackers_from_args(
    args: argparse.Namespace,
    config: RunConfig,
    dataset: Dataset,
    log: Callable[[str], None],
) -> Trackers:
    trackers = Trackers()
    run_dir = Path(args.out)
    if args.tensorboard is not None:
        from vae_atlas.integrations import tensorboard as tb

        folder = tensorboard_dir(args, run_dir)
        logger = tb.TensorBoardLogger(folder, dataset)
        listener = tb.TrainingListener(run_dir, logger)

        def finish_tensorboard(status: str) -> None:
            if listener.finish():
                log(f"tensorboard: {folder}  (tensorboard --logdir {folder})")

        trackers.listeners.append(listener)
        trackers.finishers.append(finish_tensorboard)
    if args.mlflow is not None:
        from vae_atlas.integrations import mlflow as ml

        uri = mlflow_uri(args.mlflow)
        with mlflow_errors(uri):
            tracker = ml.MlflowTracker(run_dir, uri, args.mlflow_experiment)
            tracker.check_store()  # a bad URI is refused before training, not after epoch 1
        listener_ml = ml.TrainingListener(tracker, config)

        def log_mlflow(row: dict[str, Any]) -> None:
            with mlflow_errors(uri):
                listener_ml(row)

        def finish_mlflow(status: str) -> None:
            with mlflow_errors(uri):
                logged = listener_ml.finish(status)
            if tracker.run_id is not None:
                log(f"mlflow: run {tracker.run_id} in {uri} ({', '.join(logged) or 'no files'})")

        trackers.listeners.append(log_mlflow)
        trackers.finishers.append(finish_mlflow)
    return trackers


@contextlib.contextmanager
def mlflow_errors(uri: str, flag: str = "--mlflow") -> Iterator[None]:
    """MLflow's own errors (a bad URI or scheme, an unusable store) as one line naming the flag."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        raise ConfigError(f"{flag} {uri}: {first_line(exc)}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
