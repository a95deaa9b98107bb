"""The explorer's JSON API: runs, maps, the in-page decoder and data points, plus the helpers
every endpoint shares (run lookup, view and code validation). Codes and uploads have their own
modules (:mod:`~vae_atlas.explorer.codes`, :mod:`~vae_atlas.explorer.uploads`).

Run ids are looked up in the in-memory registry the app was created with; nothing a client
sends is ever turned into a path. Every invalid request is answered with a 4xx and a message.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from vae_atlas.analysis.diagnostics import ACTIVE_KL_THRESHOLD
from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.condition import condition_info
from vae_atlas.explorer.decoder_manifest import AnyDecoderManifest
from vae_atlas.explorer.images import (
    data_uri,
    to_png,
)
from vae_atlas.explorer.maps import LatentMap
from vae_atlas.explorer.posterior import describe
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.models.hierarchical import has_levels
from vae_atlas.viz.style import SINGLE_COLOR, class_hex_colors

router = APIRouter(prefix="/api")


def get_run(request: Request, run_id: str) -> ExplorerRun:
    runs: dict[str, ExplorerRun] = request.app.state.runs
    if run_id not in runs:
        raise HTTPException(404, f"no run {run_id!r}; GET /api/runs lists the runs")
    return runs[run_id]


RunDep = Annotated[ExplorerRun, Depends(get_run)]
DimsQuery = Annotated[str | None, Query(pattern=r"^\d{1,4},\d{1,4}$", description="e.g. 0,1")]
OrbitQuery = Annotated[
    str | None,
    Query(
        pattern=r"^-?\d{1,4}(\.\d{1,8})?,-?\d{1,4}(\.\d{1,8})?$",
        description="the 3-D view's yaw,pitch in radians, e.g. 0.5,-0.3",
    ),
]


def parse_dims(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    a, b = text.split(",")
    return int(a), int(b)


def parse_orbit(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    yaw, pitch = text.split(",")
    return float(yaw), float(pitch)


def get_view(
    run: ExplorerRun,
    projection: str | None,
    dims: tuple[int, int] | None,
    orbit: tuple[float, float] | None = None,
) -> LatentMap:
    """The map a request names; ``orbit`` (yaw, pitch) turns the 3-D view (default 0, 0)."""
    projection = projection or run.maps.default_projection
    if projection == "dims" and dims is None:
        dims = (0, 1)
    try:
        if projection == "orbit" and projection in run.maps.projections:
            return run.maps.orbit_view(orbit or (0.0, 0.0))
        return run.maps.get(projection, dims)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def check_codes(run: ExplorerRun, z: list[list[float]]) -> np.ndarray:
    bad = [i for i, row in enumerate(z) if len(row) != run.latent_dim]
    if bad:
        raise HTTPException(
            422,
            f"z[{bad[0]}] has {len(z[bad[0]])} values; this run's latent_dim is {run.latent_dim}",
        )
    return np.asarray(z, dtype=np.float64)  # (B, D)


def images_as_uris(images: np.ndarray) -> list[str]:
    return [data_uri(to_png(x)) for x in images]


@router.get("/runs", response_model=list[s.RunSummary])
def list_runs(request: Request) -> list[s.RunSummary]:
    return [summary(r) for r in request.app.state.runs.values()]


def summary(run: ExplorerRun) -> s.RunSummary:
    level = run.model.level_words if has_levels(run.model) else None
    return s.RunSummary(
        id=run.id, name=run.name, latent_dim=run.latent_dim, n_points=len(run.latents),
        level=level, **run.info,
    )  # fmt: skip


@router.get("/runs/{run_id}", response_model=s.RunDetail)
def run_detail(
    run: RunDep,
    labels: Annotated[bool, Query(description="false: labels null (see labels.bin)")] = True,
) -> s.RunDetail:
    lo, hi = run.slider_ranges()
    active, order = run.active, run.dim_order
    dims = [
        s.DimInfo(
            index=int(i),
            kl=float(run.kl[i]),
            variance=float(run.variance[i]),
            active=bool(active[i]),
            lo=float(lo[i]),
            hi=float(hi[i]),
        )
        for i in order
    ]
    values = None if run.labels is None or not labels else run.labels.astype(int).tolist()
    return s.RunDetail(
        **summary(run).model_dump(),
        image_shape=run.image_shape,
        stochastic=run.stochastic,
        class_names=run.class_names,
        class_colors=class_palette(run),
        labels=values,
        dims=dims,
        n_active=int(active.sum()),
        active_kl_threshold=ACTIVE_KL_THRESHOLD,
        mean=run.mean.tolist(),
        projections=run.maps.projections,
        default_projection=run.maps.default_projection,
        in_page_decoder=run.decoder is not None,
        prior=run.prior,
        version=run.version,
        condition=condition_info(run),
    )


def class_palette(run: ExplorerRun) -> list[str]:
    """The report's colours: one per class, so a class looks the same on both, or one for all
    points when they have no labels."""
    if run.labels is None or not len(run.labels):
        return [SINGLE_COLOR]
    n_classes = max(len(run.class_names or ()), int(run.labels.max()) + 1)
    return class_hex_colors(n_classes)


@router.get("/runs/{run_id}/map", response_model=s.MapResponse)
def get_map(
    run: RunDep,
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
    points: Annotated[bool, Query(description="false: x and y empty (see map.bin)")] = True,
    orbit: OrbitQuery = None,
):
    lmap = get_view(run, projection, parse_dims(dims), parse_orbit(orbit))
    linear = None
    if lmap.linear:
        linear = s.LinearMap(axes=lmap.axes.tolist(), center=lmap.center.tolist())
    xy = np.round(lmap.coords.astype(np.float64), 5) if points else np.zeros((0, 2))
    basis = run.maps.orbit()[0].tolist() if lmap.projection == "orbit" else None
    return s.MapResponse(
        basis=basis,
        projection=lmap.projection,
        dims=lmap.dims,
        x=xy[:, 0].tolist(),
        y=xy[:, 1].tolist(),
        linear=linear,
        frame=None if lmap.frame is None else lmap.frame.tolist(),
        seconds=lmap.seconds,
    )


@router.get("/runs/{run_id}/decoder", response_model=AnyDecoderManifest)
def decoder_manifest(run: RunDep) -> dict:
    if run.decoder is None:
        raise HTTPException(404, "this model's decoder does not run in the page; use POST decode")
    return run.decoder.manifest


@router.get(
    "/runs/{run_id}/decoder.bin",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def decoder_weights(run: RunDep) -> Response:
    if run.decoder is None:
        raise HTTPException(404, "this model's decoder does not run in the page; use POST decode")
    return Response(
        run.decoder.weights,
        media_type="application/octet-stream",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/runs/{run_id}/points/{index}", response_model=s.PointDetail)
def point_detail(
    run: RunDep,
    index: int,
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
    k: Annotated[int, Query(ge=0, le=32)] = 8,
    orbit: OrbitQuery = None,
) -> s.PointDetail:
    if not 0 <= index < len(run.latents):
        raise HTTPException(404, f"point {index} does not exist; this run shows {len(run.latents)}")
    lmap = get_view(run, projection, parse_dims(dims), parse_orbit(orbit))
    sigma = None if run.latents.sigma is None else run.latents.sigma[index]
    post = describe(run, lmap, run.latents.mu[index], sigma, k=k, exclude=index)
    label = None if run.labels is None else int(run.labels[index])
    name = None
    if label is not None and run.class_names and 0 <= label < len(run.class_names):
        name = run.class_names[label]
    original = data_uri(to_png(run.images.images[index].numpy() / 255.0))
    return s.PointDetail(**post, index=index, label=label, class_name=name, original=original)
