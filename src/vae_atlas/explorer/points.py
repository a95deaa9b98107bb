"""The shown points in binary, for pages with hundreds of thousands to millions of them.

JSON spends about 20 bytes and a parse per coordinate; these endpoints send the map's
coordinates as little-endian float32 pairs ``x0, y0, x1, y1, ...`` (N × 8 bytes) and the labels
as little-endian int32 (N × 4 bytes), which the page views as typed arrays without parsing.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import DimsQuery, OrbitQuery, RunDep, get_view, parse_dims, parse_orbit

router = APIRouter(prefix="/api")
BINARY = {200: {"content": {"application/octet-stream": {}}}}


def binary(data: np.ndarray) -> Response:
    return Response(data.tobytes(), media_type="application/octet-stream")


@router.get("/runs/{run_id}/map.bin", response_class=Response, responses=BINARY)
def map_points(
    run: RunDep,
    projection: s.ProjectionName | None = None,
    dims: DimsQuery = None,
    orbit: OrbitQuery = None,
) -> Response:
    """The map's coordinates, float32 little-endian (N, 2) row-major."""
    lmap = get_view(run, projection, parse_dims(dims), parse_orbit(orbit))
    return binary(np.ascontiguousarray(lmap.coords, dtype="<f4"))


@router.get("/runs/{run_id}/orbit.bin", response_class=Response, responses=BINARY)
def orbit_points(run: RunDep) -> Response:
    """The 3-D view's coordinates B (μ − c), float32 little-endian (N, 3) row-major; the page
    turns them itself as the view orbits (B and c: GET .../map?projection=orbit)."""
    if run.latent_dim < 3:
        raise HTTPException(
            422, f"the 3-D view needs latent_dim >= 3; this run's is {run.latent_dim}"
        )
    return binary(np.ascontiguousarray(run.maps.orbit()[2], dtype="<f4"))


@router.get("/runs/{run_id}/labels.bin", response_class=Response, responses=BINARY)
def label_values(run: RunDep) -> Response:
    """One int32 little-endian label per shown point; 404 when the points have no labels."""
    if run.labels is None:
        raise HTTPException(404, "this run's points have no labels")
    return binary(np.asarray(run.labels, dtype="<i4"))
