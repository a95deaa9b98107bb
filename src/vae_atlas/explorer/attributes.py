"""The shown images' attributes (CelebA's, an image folder's table): which exist, how well the
codes carry them, each attribute's direction for the page's "more / less of it" sliders (binary:
mean code with it − mean code without it, White 2016; continuous: the mean code's move per
standard deviation of the attribute), and one attribute's values per point for colouring the
map. Computed on first request and kept for the app's life."""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

import numpy as np
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from vae_atlas.analysis.attribute_scores import (
    AttributeScores,
    attribute_direction,
    choose_attributes,
    continuous_direction,
    score_attributes,
)
from vae_atlas.data.attributes import is_binary
from vae_atlas.explorer.api import RunDep
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.viz.attributes import BINARY_COLORS
from vae_atlas.viz.style import score_hex_ramp

router = APIRouter(prefix="/api")
RAMP_STEPS = 32
TOP_DIMS = 3  # dimensions listed per attribute in the page's table
_lock = threading.Lock()
_cache: WeakKeyDictionary[ExplorerRun, tuple[AttributeScores, list[int], np.ndarray]] = (
    WeakKeyDictionary()
)


class AttributeRow(BaseModel):
    index: int
    name: str
    kind: str  # "binary" | "continuous"
    probe_accuracy: float | None
    majority_accuracy: float | None
    probe_auc: float | None
    probe_r2: float | None
    top_dims: list[int]
    top_corr: list[float]
    direction: list[float] | None  # (D,); None for an attribute with one value only


class AttributeSummary(BaseModel):
    attributes: list[AttributeRow]
    # the attributes the page gives a slider by default: the chosen binary ones, then every
    # continuous one that varies
    sliders: list[int]


class AttributeValues(BaseModel):
    name: str
    kind: str
    values: list[float]  # (N,), one per shown point
    lo: float
    hi: float
    ramp: list[str]


def _values(run: ExplorerRun) -> np.ndarray:
    if run.attribute_names is None or run.images.attributes is None:
        raise HTTPException(404, f"run {run.id!r} has no attributes")
    return run.images.attributes.numpy().astype(np.float64)  # (N, A)


def _computed(run: ExplorerRun) -> tuple[AttributeScores, list[int], np.ndarray]:
    """Probe scores, the default slider attributes and their directions (n_chosen, D)."""
    values = _values(run)
    with _lock:
        if run not in _cache:
            names = run.attribute_names
            mu = run.latents.mu
            chosen = choose_attributes(names, values)
            directions = np.zeros((len(names), mu.shape[1]))
            for a in range(len(names)):
                if not _steerable(values[:, a]):
                    continue
                if is_binary(values[:, a]):
                    directions[a] = attribute_direction(mu, values[:, a], names[a]).vector
                else:
                    directions[a] = continuous_direction(mu, values[:, a])
                    chosen.append(a)
            _cache[run] = (score_attributes(mu, values, names), chosen, directions)
        return _cache[run]


@router.get("/runs/{run_id}/attributes", response_model=AttributeSummary)
def get_attributes(run: RunDep) -> AttributeSummary:
    """The run's attributes; an empty list when its images carry none."""
    if run.attribute_names is None or run.images.attributes is None:
        return AttributeSummary(attributes=[], sliders=[])
    values = _values(run)
    scores, chosen, directions = _computed(run)
    rows = []
    for a, name in enumerate(scores.names):
        top = np.argsort(-scores.dim_corr[a])[:TOP_DIMS]
        steerable = _steerable(values[:, a])
        rows.append(
            AttributeRow(
                index=a,
                name=name,
                kind="binary" if scores.binary[a] else "continuous",
                probe_accuracy=_finite(scores.accuracy[a]),
                majority_accuracy=_finite(scores.majority[a]),
                probe_auc=_finite(scores.auc[a]),
                probe_r2=_finite(scores.r2[a]),
                top_dims=[int(d) for d in top],
                top_corr=[round(float(scores.dim_corr[a, d]), 4) for d in top],
                direction=[round(float(v), 5) for v in directions[a]] if steerable else None,
            )
        )
    return AttributeSummary(attributes=rows, sliders=chosen)


@router.get("/runs/{run_id}/attributes/{index}", response_model=AttributeValues)
def get_attribute_values(run: RunDep, index: int) -> AttributeValues:
    values = _values(run)
    if not 0 <= index < values.shape[1]:
        raise HTTPException(404, f"no attribute {index}; this run has {values.shape[1]}")
    column = values[:, index]
    if is_binary(column):
        return AttributeValues(
            name=run.attribute_names[index], kind="binary", values=column.tolist(),
            lo=0.0, hi=1.0, ramp=list(BINARY_COLORS),
        )  # fmt: skip
    lo, hi = np.percentile(column, [1.0, 99.0])
    return AttributeValues(
        name=run.attribute_names[index], kind="continuous", values=column.tolist(),
        lo=float(lo), hi=float(hi), ramp=score_hex_ramp(RAMP_STEPS),
    )  # fmt: skip


def _finite(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None


def _steerable(column: np.ndarray) -> bool:
    """Whether an attribute has a direction: a binary one needs both values, any other two."""
    return np.unique(column).size >= 2
