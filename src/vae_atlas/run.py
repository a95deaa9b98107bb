"""A run directory and its loader: the one object every later stage receives.

:func:`load_run` reads ``config.json`` and ``model.safetensors`` (never pickle) and rebuilds the
model; ``metrics.jsonl`` and ``snapshots/`` are read on demand. Every problem is a
:class:`RunFileError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from vae_atlas.checkpoint import (
    CONFIG,
    METRICS,
    PROBE,
    SNAPSHOTS,
    STATE,
    WEIGHTS,
    RunFileError,
    load_tensors,
    load_weights_into,
    read_json,
    read_metrics,
    read_run_config,
)
from vae_atlas.config import ConfigError, RunConfig
from vae_atlas.data import Dataset, load_dataset
from vae_atlas.models import AutoEncoder, build_model
from vae_atlas.models.conditional import conditioned_dataset
from vae_atlas.training.blueprint import check_weights_header, model_blueprint
from vae_atlas.training.data_access import DataAccess, data_config_for_run

_SNAPSHOT = re.compile(r"^epoch_(\d{4,})\.safetensors$")


@dataclass(frozen=True)
class Snapshot:
    """Probe-set posterior means (P, D) (and log-variances) after ``epoch`` epochs."""

    epoch: int
    mu: torch.Tensor
    logvar: torch.Tensor | None


@dataclass(frozen=True, eq=False)
class Run:
    """A trained run: its directory, config, model (eval mode) and metrics."""

    path: Path
    config: RunConfig
    model: AutoEncoder
    metrics: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    data_access: DataAccess = field(default_factory=DataAccess)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def cache_dir(self) -> Path:
        """Where derived results that are slow to recompute (projections) are kept."""
        return self.path / "cache"

    @cached_property
    def dataset(self) -> Dataset:
        """The run's dataset (cached): the config says which data, ``data_access`` (the user's
        flags) where it is read from and whether it may be downloaded. An attribute cvae's
        dataset holds the attributes it is conditioned on, in its order."""
        data = load_dataset(data_config_for_run(self.config.data, self.data_access))
        return conditioned_dataset(data, self.config.model)

    def weights_sha256(self) -> str:
        """SHA-256 of the run's ``model.safetensors`` as it is on disk now (hex).

        Files derived from the weights (``evaluation.json``) record it, so a reader can tell
        whether they still describe this model after a resume or a retrain.
        """
        try:
            return hashlib.sha256((self.path / WEIGHTS).read_bytes()).hexdigest()
        except OSError as exc:
            raise RunFileError(f"{self.path / WEIGHTS}: cannot read ({exc})") from None

    def snapshots(self) -> list[Snapshot]:
        """Per-epoch probe-set latents, ordered by epoch."""
        folder = self.path / SNAPSHOTS
        found = sorted(
            (int(m.group(1)), p)
            for p in (folder.iterdir() if folder.is_dir() else [])
            if (m := _SNAPSHOT.match(p.name))
        )
        out = []
        for epoch, p in found:
            tensors, _ = load_tensors(p)
            if "mu" not in tensors:
                raise RunFileError(f"{p}: no 'mu' tensor")
            out.append(Snapshot(epoch, tensors["mu"], tensors.get("logvar")))
        return out

    def _card_snapshot(self) -> tuple[int, Any, Any] | None:
        snapshots = self.snapshots()
        if not snapshots:
            return None
        _, labels = self.probe()
        last = snapshots[-1]
        return last.epoch, last.mu.numpy(), None if labels is None else labels.numpy()

    def _repr_html_(self) -> str:
        """A notebook shows a run as its card: config, status, final numbers, latent map."""
        from vae_atlas.run_card import card_html

        return card_html(self.name, self.config, self.state, self.metrics, self._card_snapshot())

    def probe(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Indices into the test split of the probe set, and their labels (or None)."""
        tensors, _ = load_tensors(self.path / SNAPSHOTS / PROBE)
        if "index" not in tensors:
            raise RunFileError(f"{self.path / SNAPSHOTS / PROBE}: no 'index' tensor")
        return tensors["index"], tensors.get("labels")


def load_run(
    path: str | Path,
    *,
    device: str | torch.device = "cpu",
    data: DataAccess | None = None,
) -> Run:
    """Open a run directory written by :func:`vae_atlas.train`.

    The model's size is checked against the config and the weights file's header before it is
    built, so a hostile ``config.json`` cannot make this allocate more than the file holds.
    ``data`` says where the run's dataset may be read from and whether it may be downloaded
    (default: never downloaded; see :mod:`vae_atlas.training.data_access`).

    Raises
    ------
    RunFileError
        The directory or one of its files is missing or damaged (the message names it).
    """
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise RunFileError(f"{run_dir}: not a run directory (it does not exist or is a file)")
    config = read_run_config(run_dir)
    weights_path = run_dir / WEIGHTS
    if not weights_path.exists():
        raise RunFileError(
            f"{weights_path}: file is missing; training never saved weights here "
            f"(resume it with: vae-atlas train --resume --out {run_dir})"
        )
    try:
        blueprint = model_blueprint(config.model)
    except ConfigError as exc:
        raise RunFileError(f"{run_dir / CONFIG}: {exc}") from None
    check_weights_header(weights_path, blueprint)
    model = build_model(config.model)
    tensors, _ = load_tensors(weights_path)
    load_weights_into(model, tensors, weights_path)
    model.to(device).eval()
    state_path = run_dir / STATE
    state = read_json(state_path) if state_path.exists() else {}
    if not isinstance(state, dict):
        raise RunFileError(f"{state_path}: expected a JSON object")
    return Run(
        path=run_dir,
        config=config,
        model=model,
        metrics=read_metrics(run_dir / METRICS),
        state=state,
        data_access=data or DataAccess(),
    )
