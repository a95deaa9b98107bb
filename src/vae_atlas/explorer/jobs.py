"""Slow maps (t-SNE, UMAP) computed in the background while the page keeps its current map.

``POST /api/runs/{id}/map/job?projection=tsne`` starts the map on a worker thread the first time
and answers at once with its state (``computing`` with the fraction done and the seconds so far,
``ready`` or ``failed`` with the reason); the page asks again every second and loads the map when
it is ready. The result lands where :meth:`~vae_atlas.explorer.map_store.MapStore.get` keeps
maps (memory, and the run's ``cache/`` folder), so every later request is immediate.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request

from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import DimsQuery, RunDep, parse_dims
from vae_atlas.explorer.maps import NONLINEAR
from vae_atlas.explorer.state import ExplorerRun

router = APIRouter(prefix="/api")


@dataclass
class MapJob:
    """One map being computed; the worker thread updates ``progress``, ``error`` and ``done``."""

    started: float
    progress: float | None = None
    error: str | None = None
    done: bool = False

    def run(self, run: ExplorerRun, projection: str, dims: tuple[int, int] | None) -> None:
        def report(fraction: float) -> None:
            self.progress = fraction

        try:
            run.maps.get(projection, dims, progress=report)
        except ValueError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure is reported to the page, not lost
            self.error = f"{projection} failed: {type(exc).__name__}: {exc}"
        self.done = True


class MapJobs:
    """The app's background maps, one per (run, projection, dims)."""

    def __init__(self) -> None:
        self._jobs: dict[tuple, MapJob] = {}
        self._lock = threading.Lock()

    def forget(self, run_id: str) -> None:
        """Drop a run's jobs (its weights changed: their maps belong to the old ones)."""
        with self._lock:
            for key in [k for k in self._jobs if k[0] == run_id]:
                del self._jobs[key]

    def status(self, run: ExplorerRun, projection: str, dims: tuple[int, int] | None) -> MapJob:
        """The job for this map, started now if it has none (a failed one is not retried)."""
        key = (run.id, projection, dims)
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = MapJob(started=time.monotonic())
                worker = threading.Thread(
                    target=job.run, args=(run, projection, dims), daemon=True, name="map-job"
                )
                worker.start()
        return job


@router.post("/runs/{run_id}/map/job", response_model=s.MapJobStatus)
def map_job(
    request: Request,
    run: RunDep,
    projection: s.ProjectionName,
    dims: DimsQuery = None,
) -> s.MapJobStatus:
    if projection not in run.maps.projections:
        raise HTTPException(
            422, f"projection {projection!r} is not available; choose one of {run.maps.projections}"
        )
    pair = parse_dims(dims) if projection == "dims" else None
    if projection not in NONLINEAR:  # linear maps take milliseconds: no job needed
        return s.MapJobStatus(state="ready", progress=1.0, seconds=0.0)
    job = request.app.state.map_jobs.status(run, projection, pair)
    seconds = time.monotonic() - job.started
    # done is read before the error: the worker sets the error first, so a job that failed
    # between the two reads cannot be reported as ready
    done = job.done
    if job.error is not None:
        return s.MapJobStatus(state="failed", seconds=seconds, message=job.error)
    if done:
        return s.MapJobStatus(state="ready", progress=1.0, seconds=seconds)
    return s.MapJobStatus(state="computing", progress=job.progress, seconds=seconds)
