"""What a report is built from: a model that follows the protocol, its data, and — for a run —
its metrics and snapshots. :func:`source_from_run` and :func:`source_from_model` make one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from vae_atlas.checkpoint import RunFileError
from vae_atlas.data import Dataset
from vae_atlas.models import as_latent_model
from vae_atlas.report.scores import evaluation_rows
from vae_atlas.run import Run, Snapshot, load_run


@dataclass(frozen=True, eq=False)
class AtlasSource:
    """Everything a report reads.

    ``snapshots``/``probe_labels`` drive "how the space formed"; ``run_dir`` is the run's
    folder (None for a bare model); ``cache_dir`` (a run's ``cache/``) stores slow projections.
    """

    name: str
    model: nn.Module
    dataset: Dataset
    metrics: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    probe_labels: np.ndarray | None = None
    run_dir: Path | None = None
    cache_dir: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None

    @property
    def latent_dim(self) -> int:
        return int(self.model.latent_dim)

    @property
    def stochastic(self) -> bool:
        return bool(getattr(self.model, "stochastic", True))


def source_from_run(run: Run | str | Path) -> AtlasSource:
    """A report source for a run directory (or a loaded :class:`Run`)."""
    if not isinstance(run, Run):
        run = load_run(run)
    snapshots, probe_labels, snapshot_error = [], None, None
    try:
        snapshots = run.snapshots()
        if snapshots:
            _, labels = run.probe()
            probe_labels = None if labels is None else labels.numpy()
    except RunFileError as exc:  # snapshots are optional: a damaged file drops only their figure
        snapshots, probe_labels, snapshot_error = [], None, str(exc)
    cfg = run.config
    summary = {
        "dataset": cfg.data.name,
        "objective": cfg.model.objective_label,
        "model": f"{cfg.model.family}, hidden {list(cfg.model.hidden)}",
        "latent dim": cfg.model.latent_dim,
        "likelihood": cfg.model.likelihood,
        "epochs": run.metrics[-1]["epoch"] if run.metrics else 0,
    }
    if hasattr(run.model, "level_label"):  # a hierarchical model: the figures show one level
        summary["latent level shown"] = run.model.level_label()
    if cfg.model.objective == "vamp":
        summary["prior"] = f"VampPrior, {cfg.model.pseudo_inputs} learned pseudo-inputs"
    final = run.metrics[-1] if run.metrics else {}
    if final.get("test_neg_elbo") is not None:
        summary["final held-out −ELBO, training log (nats)"] = round(
            float(final["test_neg_elbo"]), 2
        )
    if snapshot_error is not None:
        summary["snapshots"] = f"unreadable, not drawn ({snapshot_error})"
    summary.update(evaluation_rows(run))
    return AtlasSource(
        name=run.name,
        model=run.model,
        dataset=run.dataset,
        metrics=list(run.metrics),
        snapshots=snapshots,
        probe_labels=probe_labels,
        run_dir=run.path,
        cache_dir=run.cache_dir,
        summary=summary,
        data_dir=cfg.data.data_dir,
    )


def source_from_model(
    model: nn.Module,
    dataset: Dataset,
    *,
    name: str = "model",
    latent_dim: int | None = None,
    cache_dir: str | Path | None = None,
) -> AtlasSource:
    """A report source for a user's own model (anything with ``encode``/``decode``) and data."""
    wrapped = as_latent_model(model, **({} if latent_dim is None else {"latent_dim": latent_dim}))
    wrapped.eval()
    summary = {
        "dataset": dataset.name,
        "model": type(model).__name__,
        "latent dim": int(wrapped.latent_dim),
    }
    return AtlasSource(
        name=name,
        model=wrapped,
        dataset=dataset,
        cache_dir=None if cache_dir is None else Path(cache_dir),
        summary=summary,
    )
