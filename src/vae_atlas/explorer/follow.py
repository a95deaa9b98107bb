"""Follow runs while they train (``vae-atlas explore RUN --follow``): each time training
finishes an epoch, the explorer takes the new weights and encodes the points again, and the
page shows the newest map, decoder and metrics.

Training writes every epoch's files atomically (temporary file, then rename) and ``state.json``
last (:mod:`vae_atlas.training.session`), so a changed ``state.json`` means the epoch's weights
are complete. A follower thread looks at it every ``interval`` seconds; on a change it loads the
weights (the epoch shown is the one recorded in ``model.safetensors``), builds the run's
explorer state for the same points and swaps it in under the same id. A load that fails (the
run directory replaced, a file damaged) keeps the previous weights and says why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vae_atlas.checkpoint import (
    METRICS,
    STATE,
    WEIGHTS,
    RunFileError,
    read_header,
    read_json,
    read_metrics,
)
from vae_atlas.explorer.api import RunDep
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.run import load_run

router = APIRouter(prefix="/api")
DEFAULT_INTERVAL = 1.0  # seconds between looks at state.json


class FollowStatus(BaseModel):
    following: bool = Field(description="whether this run is reloaded as it trains")
    version: int = Field(description="the shown weights' version (RunDetail.version)")
    epoch: int | None = Field(description="the epoch whose weights are shown")
    epochs: int | None = Field(description="the epochs the training was asked for")
    status: str | None = Field(description="state.json's status: running, complete, ...")
    metrics: dict[str, float] = Field(description="the newest metrics row's numbers")
    error: str | None = Field(None, description="why the newest files could not be loaded")


@dataclass
class RunFollower:
    """Reloads one run's weights whenever its ``state.json`` changes and they are another
    epoch's than ``shown_epoch``'s; ``swap`` installs the new :class:`ExplorerRun`."""

    path: Path
    swap: Callable[[ExplorerRun], None]
    current: Callable[[], ExplorerRun]
    shown_epoch: int
    interval: float = DEFAULT_INTERVAL
    status: dict = field(default_factory=dict)
    _stamp: tuple[int, int] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.poll()
        threading.Thread(target=self._loop, daemon=True, name="run-follower").start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> bool:
        """Reload if ``state.json`` changed since the last look; whether it reloaded."""
        try:
            info = (self.path / STATE).stat()
        except OSError:
            return False
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self._reload()
        except (RunFileError, OSError, ValueError) as exc:
            self.status = {**self.status, "error": str(exc)}
            return False
        return True

    def _reload(self) -> None:
        state = read_json(self.path / STATE)
        if not isinstance(state, dict):
            raise RunFileError(f"{self.path / STATE}: expected a JSON object")
        epoch = weights_epoch(self.path)
        if epoch != self.shown_epoch:
            model = load_run(self.path, device=self.current().device).model  # the device in use
            if weights_epoch(self.path) != epoch:  # replaced while it loaded: look again
                self._stamp = None
                return
            self.swap(self.current().with_model(model))
            self.shown_epoch = epoch
        rows = read_metrics(self.path / METRICS) if (self.path / METRICS).exists() else []
        numbers = {
            k: float(v)
            for k, v in (rows[-1] if rows else {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        # one dict, replaced whole: a request reading it while new weights are swapped in sees
        # the version and the epoch of the same weights
        self.status = {
            "version": self.current().version,
            "epoch": self.shown_epoch,
            "epochs": state.get("epochs"),
            "status": state.get("status"),
            "metrics": numbers,
            "error": None,
        }


def weights_epoch(path: Path) -> int:
    """The epoch recorded in a run's ``model.safetensors`` (0 for weights saved before any)."""
    _, meta = read_header(path / WEIGHTS)
    try:
        return int((meta or {}).get("epoch", 0))
    except (TypeError, ValueError):
        raise RunFileError(f"{path / WEIGHTS}: its epoch is not a number") from None


@router.get("/runs/{run_id}/follow", response_model=FollowStatus)
def follow_status(request: Request, run: RunDep) -> FollowStatus:
    follower: RunFollower | None = request.app.state.followers.get(run.id)
    if follower is None:
        return FollowStatus(
            following=False, version=0, epoch=None, epochs=None, status=None, metrics={}
        )
    st = follower.status
    return FollowStatus(
        following=True,
        version=st.get("version", run.version),
        epoch=st.get("epoch", follower.shown_epoch),
        epochs=st.get("epochs"),
        status=st.get("status"),
        metrics=st.get("metrics", {}),
        error=st.get("error"),
    )
