"""The explorer web app: :func:`create_app` turns runs into a FastAPI application.

The app serves one static page (``static/``: plain HTML, CSS and JavaScript, no CDN, no build
step) and the JSON API of :mod:`vae_atlas.explorer.api`; the OpenAPI schema is at
``/openapi.json`` (FastAPI's CDN-based ``/docs`` pages are off: everything works offline).
Validation errors are 422 with the pydantic message, unknown runs or points 404, oversized
uploads 413, requests addressed to another host 400.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from vae_atlas.explorer import (
    anomaly,
    api,
    attributes,
    codes,
    follow,
    jobs,
    names,
    points,
    selection,
    uploads,
)
from vae_atlas.explorer.hosts import HostCheckMiddleware
from vae_atlas.explorer.limits import MAX_BODY_BYTES, BodyLimitMiddleware
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.run import Run

STATIC = Path(__file__).parent / "static"


def create_app(
    runs: Sequence[Run | ExplorerRun],
    *,
    max_points: int | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    follow_runs: bool = False,
    follow_interval: float = follow.DEFAULT_INTERVAL,
) -> FastAPI:
    """A FastAPI app exploring ``runs`` (loaded :class:`~vae_atlas.Run` or prepared
    :class:`ExplorerRun` objects; the first one is shown first).

    Parameters
    ----------
    runs : at least one run.
    max_points : show at most this many test images per run (default: the whole test split).
    host, port : the address the app is served on; requests whose ``Host`` header names
        another server are refused (see :mod:`vae_atlas.explorer.hosts`). ``port=None``
        accepts any port on the allowed host names.
    """
    if not runs:
        raise ValueError("create_app needs at least one run")
    registry: dict[str, ExplorerRun] = {}
    followed: dict[str, tuple[Path, int]] = {}
    for run in runs:
        if isinstance(run, Run):
            epoch = follow.weights_epoch(run.path) if follow_runs else 0
            run_id = unique_id(run.name, registry)
            if follow_runs:
                followed[run_id] = (run.path, epoch)
            run = ExplorerRun.from_run(run, run_id=run_id, max_points=max_points)
        elif run.id in registry:
            run.id = unique_id(run.id, registry)
        registry[run.id] = run
    app = FastAPI(
        title="vae-atlas explorer",
        summary="Decode anywhere in a latent space, encode your own images, steer every dimension.",
        version="0.1.0",
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; the explorer stays
        # offline, so only the schema itself is served
        docs_url=None,
        redoc_url=None,
        lifespan=stop_followers,
    )
    app.state.runs = registry
    app.state.upload_pool = uploads.UploadPool()
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    # added last, so it runs first: a request for another host is refused before anything else
    app.add_middleware(HostCheckMiddleware, host=host, port=port)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.anomaly_scores = {}
    app.state.map_jobs = jobs.MapJobs()
    app.state.followers = start_followers(app, followed, follow_interval)
    for module in (
        api,
        codes,
        uploads,
        anomaly,
        points,
        jobs,
        selection,
        attributes,
        names,
        follow,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def start_followers(
    app: FastAPI, followed: dict[str, tuple[Path, int]], interval: float
) -> dict[str, follow.RunFollower]:
    """One follower per followed run; a reload forgets what was computed from the old weights."""
    runs: dict[str, ExplorerRun] = app.state.runs

    def swapper(run_id: str):
        def swap(new: ExplorerRun) -> None:
            runs[run_id] = new
            app.state.anomaly_scores.pop(run_id, None)
            app.state.map_jobs.forget(run_id)

        return swap

    followers = {}
    for run_id, (path, epoch) in followed.items():
        followers[run_id] = follow.RunFollower(
            path, swapper(run_id), lambda r=run_id: runs[r], epoch, interval
        )
        followers[run_id].start()
    return followers


@asynccontextmanager
async def stop_followers(app: FastAPI) -> AsyncIterator[None]:
    yield
    for follower in app.state.followers.values():
        follower.stop()


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with readable messages; never echoes the input (it may hold NaN, which JSON cannot
    encode, or be large)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors[:20]
    ]
    message = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in detail) or "invalid request"
    return JSONResponse({"detail": detail, "message": message}, status_code=422)


def unique_id(name: str, taken: dict[str, object]) -> str:
    """A URL-safe id from a run name, suffixed -2, -3, ... if already used."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "run"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
