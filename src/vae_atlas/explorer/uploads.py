"""Uploads: a user's PNG/JPEG, read with a size cap, decoded safely, preprocessed like the
dataset and encoded (see :mod:`vae_atlas.explorer.images` for the rules).

Decoding and encoding run in a small pool of worker threads (:class:`UploadPool`), never on the
event loop, so a slow upload does not hold up other clients; a few more uploads may wait for a
worker, and beyond that the server answers 429 rather than queueing without bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request

from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import (
    DimsQuery,
    OrbitQuery,
    RunDep,
    get_view,
    parse_dims,
    parse_orbit,
)
from vae_atlas.explorer.condition import parse_attrs, upload_condition
from vae_atlas.explorer.images import (
    MAX_UPLOAD_BYTES,
    UploadError,
    data_uri,
    describe_layout,
    open_upload,
    prepare_upload,
    to_png,
)
from vae_atlas.explorer.posterior import describe
from vae_atlas.explorer.state import ExplorerRun

router = APIRouter(prefix="/api")
T = TypeVar("T")


class UploadPool:
    """Runs upload work on at most ``workers`` threads, with at most ``backlog`` more waiting."""

    def __init__(self, workers: int = 2, backlog: int = 8) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="vae-atlas-upload")
        self._slots = threading.BoundedSemaphore(workers + backlog)

    async def run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(blocking=False):
            raise HTTPException(429, "the explorer is busy with other uploads; try again shortly")
        try:
            return await asyncio.wrap_future(self._executor.submit(work))
        finally:
            self._slots.release()


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
    orbit: OrbitQuery = None,
    y: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="cvae: its class")] = None,
    attrs: Annotated[
        str | None, Query(max_length=s.MAX_DIM * 24, description="cvae: its attribute values")
    ] = None,
) -> s.UploadResult:
    """Encode an uploaded PNG/JPEG (the raw file as the request body, at most 5 MB); a cvae's
    under the class ``y`` or attribute values ``attrs`` it needs."""
    condition = upload_condition(run, y, parse_attrs(attrs))
    data = await read_capped(request, MAX_UPLOAD_BYTES)
    pool: UploadPool = request.app.state.upload_pool
    view = (projection, parse_dims(dims), parse_orbit(orbit))
    return await pool.run(
        lambda: encode_bytes(run, data, view[0], view[1], invert, view[2], condition)
    )


def encode_bytes(
    run: ExplorerRun,
    data: bytes,
    projection: str | None,
    dims: tuple[int, int] | None,
    invert: str,
    orbit: tuple[float, float] | None = None,
    condition: np.ndarray | None = None,
) -> s.UploadResult:
    """Decode, lay out and encode one upload (on a worker thread: it may take a while); a cvae's
    under ``condition`` (1,) or (1, A), see :func:`.condition.upload_condition`."""
    try:
        img = open_upload(data)
        x, inverted = prepare_upload(
            img,
            run.image_shape,
            dataset_background=run.background,
            invert=invert,
            layout=run.upload_layout,
        )
    except UploadError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    lmap = get_view(run, projection, dims, orbit)
    mu, sigma = run.encode(x[None], condition)
    sigma = None if sigma is None else sigma[0]
    post = describe(run, lmap, mu[0], sigma, k=8, condition=condition)
    return s.UploadResult(
        **post,
        input=data_uri(to_png(x)),
        inverted=inverted,
        original_size=img.size,
        normalisation=describe_layout(run.upload_layout, run.image_shape),
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
