"""Codes in, images out: decode, interpolate, sample, and move codes between latent space and
the map (inspect, place, lift). Interpolation comes from :mod:`vae_atlas.analysis.interpolation`
(linear, or spherical as White 2016 recommends for Gaussian latent spaces)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from vae_atlas.analysis.interpolation import interpolation_path
from vae_atlas.analysis.sampling import sample_codes, source_label
from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import (
    DimsQuery,
    OrbitQuery,
    RunDep,
    check_codes,
    get_run,
    get_view,
    images_as_uris,
    parse_dims,
    parse_orbit,
)
from vae_atlas.explorer.condition import chosen_condition, parse_attrs
from vae_atlas.explorer.images import to_png
from vae_atlas.explorer.maps import LatentMap, lift, lift_linear, place
from vae_atlas.explorer.posterior import describe
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.models.priors import own_prior

router = APIRouter(prefix="/api")


@router.post("/runs/{run_id}/decode", response_model=s.DecodeResponse)
def decode(run: RunDep, body: s.DecodeRequest) -> s.DecodeResponse:
    z = check_codes(run, body.z)
    images = run.decode(z, chosen_condition(run, body.y, body.attrs, len(z)))
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
    request: Request,
    run_id: str,
    z: Annotated[str, Query(max_length=s.MAX_DIM * 24, description="comma-separated code")],
    y: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="cvae: a class")] = None,
    attrs: Annotated[
        str | None, Query(max_length=s.MAX_DIM * 24, description="cvae: attribute values")
    ] = None,
) -> Response:
    """One code → one PNG (the page's hover fallback for models it cannot run itself); a cvae's
    code under the class ``y`` or attribute values ``attrs`` if given, else its own."""
    run = get_run(request, run_id)  # a plain call: this is the hot path, skip DI overhead
    condition = chosen_condition(run, y, parse_attrs(attrs), 1)
    try:
        code = np.array([float(v) for v in z.split(",")], dtype=np.float64)
    except ValueError:
        raise HTTPException(422, "z must be comma-separated numbers, e.g. z=0.5,-1.2") from None
    if code.shape[0] != run.latent_dim:
        raise HTTPException(422, f"z has {code.shape[0]} values; latent_dim is {run.latent_dim}")
    if not np.all(np.isfinite(code)) or np.abs(code).max() > s.MAX_ABS_LATENT:
        raise HTTPException(422, f"z must be finite with |z| <= {s.MAX_ABS_LATENT:g}")
    png = to_png(run.decode(code[None], condition)[0])
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/runs/{run_id}/inspect", response_model=s.Posterior)
def inspect_code(run: RunDep, body: s.InspectRequest) -> s.Posterior:
    rows = [body.z] if body.sigma is None else [body.z, body.sigma]
    checked = check_codes(run, rows)
    lmap = get_view(run, body.projection, body.dims, body.orbit)
    sigma = None if body.sigma is None else checked[1]
    return s.Posterior(**describe(run, lmap, checked[0], sigma, k=body.k))


@router.post("/runs/{run_id}/interpolate", response_model=s.PathResponse)
def interpolate_codes(run: RunDep, body: s.InterpolateRequest) -> s.PathResponse:
    ab = check_codes(run, [body.a, body.b])
    lmap = get_view(run, body.projection, body.dims, body.orbit)
    method = "slerp" if body.method == "spherical" else "linear"
    z = interpolation_path(ab[0], ab[1], body.steps, method)
    return path_response(run, lmap, z, chosen_condition(run, body.y, body.attrs, len(z)))


def path_response(
    run: ExplorerRun, lmap: LatentMap, z: np.ndarray, condition: np.ndarray | None = None
) -> s.PathResponse:
    """Codes z (S, D) decoded (under ``condition``, for a cvae) and placed on the map."""
    xy = place(lmap, z, run.neighbours)
    return s.PathResponse(
        z=np.round(z, 6).tolist(),
        images=images_as_uris(run.decode(z, condition)),
        path=[(float(x), float(y)) for x, y in xy],
    )


@router.post("/runs/{run_id}/samples", response_model=s.SampleResponse)
def sample(run: RunDep, body: s.SampleRequest) -> s.SampleResponse:
    lmap = get_view(run, body.projection, body.dims, body.orbit)
    source = body.source or run.sample_source
    prior = own_prior(run.model)
    z = sample_codes(
        body.n, run.latent_dim, source=source, codes=run.latents.mu, seed=body.seed, prior=prior
    )
    out = path_response(run, lmap, z, chosen_condition(run, body.y, body.attrs, len(z)))
    label = source_label(source, prior)
    return s.SampleResponse(**out.model_dump(), source=label, source_kind=source)


@router.post("/runs/{run_id}/place", response_model=list[tuple[float, float]])
def place_codes(run: RunDep, body: s.PlaceRequest) -> list[tuple[float, float]]:
    lmap = get_view(run, body.projection, body.dims, body.orbit)
    return [(float(x), float(y)) for x, y in place(lmap, check_codes(run, body.z), run.neighbours)]


@router.get("/runs/{run_id}/lift", response_model=s.LiftResponse)
def lift_position(
    run: RunDep,
    x: Annotated[float, Query(allow_inf_nan=False, ge=-1e6, le=1e6)],
    y: Annotated[float, Query(allow_inf_nan=False, ge=-1e6, le=1e6)],
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
    orbit: OrbitQuery = None,
) -> s.LiftResponse:
    """A code under a map position; for UMAP/t-SNE an IDW blend of the nearest points' codes."""
    lmap = get_view(run, projection, parse_dims(dims), parse_orbit(orbit))
    if lmap.linear:
        z = lift_linear(lmap, np.array([x, y]), run.mean)
    else:
        z = lift(lmap, np.array([x, y]), run.latents.mu, run.maps.tree(lmap))[0]
    return s.LiftResponse(z=z.tolist())
