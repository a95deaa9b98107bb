"""Uploads: a user's PNG/JPEG, read with a size cap, decoded safely, preprocessed like the
dataset and encoded (see :mod:`vae_atlas.explorer.images` for the rules)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import DimsQuery, RunDep, get_view, parse_dims
from vae_atlas.explorer.images import (
    MAX_UPLOAD_BYTES,
    UploadError,
    data_uri,
    open_upload,
    prepare_upload,
    to_png,
)
from vae_atlas.explorer.posterior import describe

router = APIRouter(prefix="/api")


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
