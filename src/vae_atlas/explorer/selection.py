"""Lasso selection: the points inside a polygon drawn on a map, summarised — how many of each
class, their mean code decoded, the first members' images — and listed, for download."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter
from matplotlib.path import Path as Polygon

from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import RunDep, get_view, images_as_uris

router = APIRouter(prefix="/api")


@router.post("/runs/{run_id}/selection", response_model=s.SelectionSummary)
def select_points(run: RunDep, body: s.SelectionRequest) -> s.SelectionSummary:
    lmap = get_view(run, body.projection, body.dims, body.orbit)
    inside = Polygon(np.asarray(body.polygon, dtype=np.float64)).contains_points(lmap.coords)
    indices = np.flatnonzero(inside)  # (M,)
    counts = None
    if run.labels is not None:
        n_classes = max(len(run.class_names or ()), int(run.labels.max()) + 1)
        counts = np.bincount(run.labels[indices], minlength=n_classes).tolist()
    if not len(indices):
        return s.SelectionSummary(indices=[], counts=counts, mean=None, mean_image=None, members=[])
    mean = run.latents.mu[indices].mean(0)  # (D,)
    first = indices[: body.members]
    return s.SelectionSummary(
        indices=indices.tolist(),
        counts=counts,
        mean=mean.tolist(),
        mean_image=images_as_uris(run.decode(mean[None]))[0],
        members=images_as_uris(run.images.images[first].numpy() / 255.0),
    )
