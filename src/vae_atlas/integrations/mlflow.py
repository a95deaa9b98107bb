"""A run in MLflow: the config as params, every metrics row as metrics (step = epoch) and the
run's files as artifacts.

The store is MLflow's own default unless told otherwise: ``sqlite:///mlflow.db`` in the folder
the command runs from; a new experiment in a sqlite store keeps its artifacts in ``mlruns``
beside the database (``mlflow ui`` started in that folder shows both). ``train --mlflow`` logs,
at its end, the run files (config, metrics, state and weights); :func:`export_mlflow` logs an
existing run, adding ``report/`` and ``evaluation.json`` when they exist. Which MLflow run holds
a vae-atlas run is kept in the run directory (``mlflow.json``), so a resume and a later export
continue the same MLflow run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vae_atlas.checkpoint import (
    CONFIG,
    METRICS,
    STATE,
    WEIGHTS,
    atomic_write_json,
    read_json,
    read_metrics,
    read_run_config,
)
from vae_atlas.config import RunConfig
from vae_atlas.integrations.extras import require

EXPERIMENT = "vae-atlas"
LINK = "mlflow.json"  # in the run directory: the store and the MLflow run it was logged to
RUN_FILES = (CONFIG, METRICS, STATE, WEIGHTS)
REPORT = "report"
EVALUATION = "evaluation.json"
_BATCH = 100  # MLflow accepts at most 100 params per log_batch call
_STATUS = {"complete": "FINISHED", "stopped": "FINISHED", "interrupted": "KILLED"}


def default_tracking_uri(folder: Path | None = None) -> str:
    """``sqlite:///<folder>/mlflow.db`` (MLflow's default store, made absolute)."""
    return f"sqlite:///{(folder or Path.cwd()).resolve() / 'mlflow.db'}"


def artifact_root(tracking_uri: str) -> str | None:
    """Where a new experiment in a local sqlite store keeps its artifacts: ``mlruns`` beside
    the database (MLflow's own default is ``./mlruns`` of whichever folder the experiment
    happened to be created from). Other stores choose for themselves (None)."""
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    return (Path(tracking_uri[len(prefix) :]).resolve().parent / "mlruns").as_uri()


def flat_params(config: RunConfig) -> dict[str, str]:
    """The run config as ``section.field`` -> text (lists comma-separated, None as "None")."""
    out = {}
    for section, values in config.to_dict().items():
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            out[f"{section}.{name}"] = text
    return out


def metric_items(row: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """(name, value) for the numbers of a metrics row under their metrics.jsonl names; a list
    (the KL per dimension) as ``name/z1``, ``name/z2``, ..."""
    for key, value in row.items():
        if key in ("epoch", "step") or value is None:
            continue
        if isinstance(value, list):
            for i, entry in enumerate(value):
                if entry is not None:
                    yield f"{key}/z{i + 1}", float(entry)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield key, float(value)


class MlflowTracker:
    """One vae-atlas run's MLflow run in the store at ``tracking_uri``."""

    def __init__(self, run_dir: str | Path, tracking_uri: str, experiment: str = EXPERIMENT):
        self.mlflow = require("mlflow", "--mlflow")
        self.run_dir, self.uri, self.experiment = Path(run_dir), tracking_uri, experiment
        self.client = self.mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
        self.run_id: str | None = None

    def check_store(self) -> None:
        """Reach the store once (creating a new sqlite store), so a bad URI fails early."""
        self.client.search_experiments(max_results=1)

    def start(self, config: RunConfig) -> str:
        """Open (or reopen: same store, run linked in ``mlflow.json``) the MLflow run and log
        the params it does not hold yet; returns its id."""
        run_id = self._linked_run()
        if run_id is None:
            experiment = self.client.get_experiment_by_name(self.experiment)
            experiment_id = (
                experiment.experiment_id
                if experiment is not None
                else self.client.create_experiment(
                    self.experiment, artifact_location=artifact_root(self.uri)
                )
            )
            run = self.client.create_run(
                experiment_id,
                run_name=self.run_dir.name,
                tags={"vae_atlas.run_dir": str(self.run_dir.resolve())},
            )
            run_id = run.info.run_id
            atomic_write_json(self.run_dir / LINK, {"tracking_uri": self.uri, "run_id": run_id})
        else:
            self.client.update_run(run_id, status="RUNNING")
        self.run_id = run_id
        held = self.client.get_run(run_id).data.params
        new = [(k, v) for k, v in flat_params(config).items() if k not in held]
        params = self.mlflow.entities.Param
        for start in range(0, len(new), _BATCH):
            chunk = [params(k, v) for k, v in new[start : start + _BATCH]]
            self.client.log_batch(run_id, params=chunk)
        return run_id

    def _linked_run(self) -> str | None:
        path = self.run_dir / LINK
        if not path.is_file():
            return None
        link = read_json(path)
        if not isinstance(link, dict) or link.get("tracking_uri") != self.uri:
            return None
        try:
            return self.client.get_run(str(link.get("run_id"))).info.run_id
        except self.mlflow.exceptions.MlflowException:  # deleted, or another store's id
            return None

    def log_rows(self, rows: list[dict[str, Any]]) -> None:
        metric = self.mlflow.entities.Metric
        now = int(time.time() * 1000)
        batch = [
            metric(name, value, now, int(row["epoch"]))
            for row in rows
            for name, value in metric_items(row)
        ]
        for start in range(0, len(batch), 1000):
            self.client.log_batch(self._id, metrics=batch[start : start + 1000])

    def logged_epochs(self) -> set[int]:
        """Epochs the MLflow run holds metrics for (every row has ``test_recon``)."""
        history = self.client.get_metric_history(self._id, "test_recon")
        return {int(m.step) for m in history}

    def log_files(self, *, reports: bool) -> list[str]:
        """Log the run files (and with ``reports``, ``report/`` and ``evaluation.json``) that
        exist; returns what was logged."""
        names = list(RUN_FILES) + ([REPORT, EVALUATION] if reports else [])
        logged = []
        for name in names:
            path = self.run_dir / name
            if path.is_dir():
                self.client.log_artifacts(self._id, str(path), artifact_path=name)
            elif path.is_file():
                self.client.log_artifact(self._id, str(path))
            else:
                continue
            logged.append(name)
        return logged

    def end(self, status: str) -> None:
        """Mark the MLflow run ended: FINISHED, KILLED (interrupted) or FAILED."""
        self.client.set_terminated(self._id, status=_STATUS.get(status, "FAILED"))

    @property
    def _id(self) -> str:
        if self.run_id is None:
            raise RuntimeError("MlflowTracker.start() was not called")
        return self.run_id


class TrainingListener:
    """``train(on_epoch_end=listener)``: opens the MLflow run at the first epoch's end (the run
    directory exists then), logs each row (the first epoch of a new run also epoch 0's);
    :meth:`finish` logs the run files and ends the MLflow run."""

    def __init__(self, tracker: MlflowTracker, config: RunConfig) -> None:
        self.tracker, self.config = tracker, config

    def __call__(self, row: dict[str, Any]) -> None:
        rows = [row]
        if self.tracker.run_id is None:
            self.tracker.start(self.config)
            if row["epoch"] == 1:
                rows = [r for r in read_metrics(self.tracker.run_dir / METRICS) if r["epoch"] <= 1]
        self.tracker.log_rows(rows)

    def finish(self, status: str) -> list[str]:
        if self.tracker.run_id is None:  # no epoch was trained in this call
            return []
        logged = self.tracker.log_files(reports=False)
        self.tracker.end(status)
        return logged


def export_mlflow(
    run_dir: str | Path, tracking_uri: str, experiment: str = EXPERIMENT
) -> tuple[str, list[str]]:
    """Log an existing run (params, every metrics row, its files, ``report/`` and
    ``evaluation.json`` when present) to the MLflow run linked to it in this store, or to a
    new one. Returns the MLflow run id and the artifacts logged."""
    tracker = MlflowTracker(run_dir, tracking_uri, experiment)
    config = read_run_config(Path(run_dir))
    run_id = tracker.start(config)
    logged_epochs = tracker.logged_epochs()
    rows = read_metrics(Path(run_dir) / METRICS)
    tracker.log_rows([r for r in rows if r["epoch"] not in logged_epochs])
    logged = tracker.log_files(reports=True)
    state = read_json(Path(run_dir) / STATE) if (Path(run_dir) / STATE).is_file() else {}
    tracker.end(state.get("status", "complete") if isinstance(state, dict) else "complete")
    return run_id, logged
