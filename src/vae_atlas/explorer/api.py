"""The explorer's JSON API: runs, maps, decoding, points, interpolation, samples and uploads.

Run ids are looked up in the in-memory registry the app was created with; nothing a client
sends is ever turned into a path. Every invalid request is answered with a 4xx and a message.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from vae_atlas.analysis.interpolation import interpolation_path
from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.images import (
    MAX_UPLOAD_BYTES,
    UploadError,
    data_uri,
    open_upload,
    prepare_upload,
    to_png,
)
from vae_atlas.explorer.maps import LatentMap, lift, place
from vae_atlas.explorer.posterior import describe
from vae_atlas.explorer.state import ExplorerRun

router = APIRouter(prefix="/api")


def get_run(request: Request, run_id: str) -> ExplorerRun:
    runs: dict[str, ExplorerRun] = request.app.state.runs
    if run_id not in runs:
        raise HTTPException(404, f"no run {run_id!r}; GET /api/runs lists the runs")
    return runs[run_id]


RunDep = Annotated[ExplorerRun, Depends(get_run)]
DimsQuery = Annotated[str | None, Query(pattern=r"^\d{1,4},\d{1,4}$", description="e.g. 0,1")]


def parse_dims(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    a, b = text.split(",")
    return int(a), int(b)


def get_view(run: ExplorerRun, projection: str | None, dims: tuple[int, int] | None) -> LatentMap:
    projection = projection or run.default_projection
    if projection == "dims" and dims is None:
        dims = (0, 1)
    try:
        return run.get_map(projection, dims)
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
    return s.RunSummary(
        id=run.id, name=run.name, latent_dim=run.latent_dim, n_points=len(run.latents), **run.info
    )


@router.get("/runs/{run_id}", response_model=s.RunDetail)
def run_detail(run: RunDep) -> s.RunDetail:
    lo, hi = run.slider_ranges()
    active = run.is_active()
    order = np.argsort(-run.kl if run.stochastic else -run.variance, kind="stable")
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
    labels = None if run.labels is None else run.labels.astype(int).tolist()
    return s.RunDetail(
        **summary(run).model_dump(),
        image_shape=run.image_shape,
        stochastic=run.stochastic,
        class_names=run.class_names,
        labels=labels,
        dims=dims,
        n_active=run.n_active,
        mean=run.mean.tolist(),
        projections=run.projections,
        default_projection=run.default_projection,
        in_page_decoder=run.decoder is not None,
        prior=run.prior,
    )


@router.get("/runs/{run_id}/map", response_model=s.MapResponse)
def get_map(run: RunDep, projection: s.ProjectionName | None = None, dims: DimsQuery = None):
    lmap = get_view(run, projection, parse_dims(dims))
    linear = None
    if lmap.linear:
        linear = s.LinearMap(axes=lmap.axes.tolist(), center=lmap.center.tolist())
    xy = np.round(lmap.coords.astype(np.float64), 5)
    return s.MapResponse(
        projection=lmap.projection,
        dims=lmap.dims,
        x=xy[:, 0].tolist(),
        y=xy[:, 1].tolist(),
        linear=linear,
        seconds=lmap.seconds,
    )


@router.get("/runs/{run_id}/decoder", response_model=s.DecoderManifest)
def decoder_manifest(run: RunDep) -> dict:
    if run.decoder is None:
        raise HTTPException(404, "this model has no in-page decoder (not an MLP); use POST decode")
    return run.decoder.manifest


@router.get(
    "/runs/{run_id}/decoder.bin",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def decoder_weights(run: RunDep) -> Response:
    if run.decoder is None:
        raise HTTPException(404, "this model has no in-page decoder (not an MLP); use POST decode")
    return Response(
        run.decoder.weights,
        media_type="application/octet-stream",
        headers={"Cache-Control": "no-cache"},
    )


@router.post("/runs/{run_id}/decode", response_model=s.DecodeResponse)
def decode(run: RunDep, body: s.DecodeRequest) -> s.DecodeResponse:
    images = run.decode(check_codes(run, body.z))
    shape = tuple(int(v) for v in images.shape)
    if body.format == "array":
        return s.DecodeResponse(shape=shape, data=np.round(images, 4).ravel().tolist())
    return s.DecodeResponse(shape=shape, images=images_as_uris(images))


@router.get(
    "/runs/{run_id}/decode.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def decode_png(
    run: RunDep,
    z: Annotated[str, Query(max_length=s.MAX_DIM * 24, description="comma-separated code")],
) -> Response:
    """One code → one PNG (the page's hover fallback for models it cannot run itself)."""
    try:
        code = np.array([float(v) for v in z.split(",")], dtype=np.float64)
    except ValueError:
        raise HTTPException(422, "z must be comma-separated numbers, e.g. z=0.5,-1.2") from None
    if code.shape[0] != run.latent_dim:
        raise HTTPException(422, f"z has {code.shape[0]} values; latent_dim is {run.latent_dim}")
    if not np.all(np.isfinite(code)) or np.abs(code).max() > s.MAX_ABS_LATENT:
        raise HTTPException(422, f"z must be finite with |z| <= {s.MAX_ABS_LATENT:g}")
    png = to_png(run.decode(code[None])[0])
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/runs/{run_id}/points/{index}", response_model=s.PointDetail)
def point_detail(
    run: RunDep,
    index: int,
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
    k: Annotated[int, Query(ge=0, le=32)] = 8,
) -> s.PointDetail:
    if not 0 <= index < len(run.latents):
        raise HTTPException(404, f"point {index} does not exist; this run shows {len(run.latents)}")
    lmap = get_view(run, projection, parse_dims(dims))
    sigma = None if run.latents.sigma is None else run.latents.sigma[index]
    post = describe(run, lmap, run.latents.mu[index], sigma, k=k, exclude=index)
    label = None if run.labels is None else int(run.labels[index])
    name = None
    if label is not None and run.class_names and 0 <= label < len(run.class_names):
        name = run.class_names[label]
    original = data_uri(to_png(run.images.images[index].numpy() / 255.0))
    return s.PointDetail(**post, index=index, label=label, class_name=name, original=original)


@router.post("/runs/{run_id}/inspect", response_model=s.Posterior)
def inspect_code(run: RunDep, body: s.InspectRequest) -> s.Posterior:
    rows = [body.z] if body.sigma is None else [body.z, body.sigma]
    checked = check_codes(run, rows)
    lmap = get_view(run, body.projection, body.dims)
    sigma = None if body.sigma is None else checked[1]
    return s.Posterior(**describe(run, lmap, checked[0], sigma, k=body.k))


@router.post("/runs/{run_id}/interpolate", response_model=s.PathResponse)
def interpolate_codes(run: RunDep, body: s.InterpolateRequest) -> s.PathResponse:
    ab = check_codes(run, [body.a, body.b])
    lmap = get_view(run, body.projection, body.dims)
    method = "slerp" if body.method == "spherical" else "linear"
    z = interpolation_path(ab[0], ab[1], body.steps, method)
    return path_response(run, lmap, z)


def path_response(run: ExplorerRun, lmap: LatentMap, z: np.ndarray) -> s.PathResponse:
    xy = place(lmap, z, run.neighbours)
    return s.PathResponse(
        z=np.round(z, 6).tolist(),
        images=images_as_uris(run.decode(z)),
        path=[(float(x), float(y)) for x, y in xy],
    )


@router.post("/runs/{run_id}/samples", response_model=s.SampleResponse)
def sample(run: RunDep, body: s.SampleRequest) -> s.SampleResponse:
    lmap = get_view(run, body.projection, body.dims)
    rng = np.random.default_rng(body.seed)
    eps = rng.standard_normal((body.n, run.latent_dim))
    if run.stochastic:
        z = eps
    else:
        cov = np.atleast_2d(np.cov(run.latents.mu, rowvar=False))
        chol = np.linalg.cholesky(cov + 1e-6 * np.eye(run.latent_dim))
        z = run.mean + eps @ chol.T
    out = path_response(run, lmap, z)
    return s.SampleResponse(**out.model_dump(), source=run.prior)


@router.post("/runs/{run_id}/place", response_model=list[tuple[float, float]])
def place_codes(run: RunDep, body: s.PlaceRequest) -> list[tuple[float, float]]:
    lmap = get_view(run, body.projection, body.dims)
    return [(float(x), float(y)) for x, y in place(lmap, check_codes(run, body.z), run.neighbours)]


@router.get("/runs/{run_id}/lift", response_model=s.LiftResponse)
def lift_position(
    run: RunDep,
    x: Annotated[float, Query(allow_inf_nan=False, ge=-1e6, le=1e6)],
    y: Annotated[float, Query(allow_inf_nan=False, ge=-1e6, le=1e6)],
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
) -> s.LiftResponse:
    """A code under a map position; for UMAP/t-SNE an IDW blend of the nearest points' codes."""
    lmap = get_view(run, projection, parse_dims(dims))
    if lmap.linear:
        z = run.mean + lmap.axes.T @ (np.array([x, y]) - lmap.axes @ (run.mean - lmap.center))
    else:
        z = lift(lmap, np.array([x, y]), run.latents.mu, run.map_tree(lmap))[0]
    return s.LiftResponse(z=z.tolist())


@router.post(
    "/runs/{run_id}/encode",
    response_model=s.UploadResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def encode_upload(
    request: Request,
    run: RunDep,
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
    invert: Annotated[str, Query(pattern="^(auto|yes|no)$")] = "auto",
) -> s.UploadResult:
    """Encode an uploaded PNG/JPEG (the raw file as the request body, at most 5 MB)."""
    data = await read_capped(request, MAX_UPLOAD_BYTES)
    try:
        img = open_upload(data)
        x, inverted = prepare_upload(
            img, run.image_shape, dataset_background=run.background, invert=invert
        )
    except UploadError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    lmap = get_view(run, projection, parse_dims(dims))
    mu, sigma = run.encode(x[None])
    post = describe(run, lmap, mu[0], None if sigma is None else sigma[0], k=8)
    return s.UploadResult(
        **post, input=data_uri(to_png(x)), inverted=inverted, original_size=img.size
    )


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the upload is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the upload is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
