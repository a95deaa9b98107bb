"""Slow maps computed in the background: progress, readiness, failures, the rest still usable."""

from __future__ import annotations

import threading
import time

import numpy as np
import torch

from vae_atlas.analysis.projection import project_latents
from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app, jobs, map_store
from vae_atlas.models import build_model

from .conftest import conv_explorer_run, local_client


def test_tsne_reports_its_progress_up_to_one() -> None:
    mu = np.random.default_rng(0).normal(size=(120, 4))
    seen: list[float] = []
    project_latents(mu, "tsne", progress=seen.append)
    # openTSNE's 250 exaggerated + 500 plain iterations, heard every 25: 30 reports
    assert len(seen) == 30
    assert seen == sorted(seen) and seen[0] == 25 / 750 and seen[-1] == 1.0


def test_tsne_is_computed_in_the_background_while_pca_answers(monkeypatch) -> None:
    # the t-SNE waits for a gate opened only once the PCA map has been answered, so the PCA
    # answer cannot have waited for it, however slow or fast this machine is
    gate, real_compute_map = threading.Event(), map_store.compute_map

    def gated(projection: str, *args, **kwargs):
        if projection == "tsne":
            assert gate.wait(timeout=120), "the t-SNE was never let through"
        return real_compute_map(projection, *args, **kwargs)

    monkeypatch.setattr(map_store, "compute_map", gated)
    client = local_client(create_app([conv_explorer_run()]))
    first = client.post("/api/runs/conv3/map/job?projection=tsne")
    assert first.status_code == 200 and first.json()["state"] == "computing"
    pca: dict = {}
    asking = threading.Thread(
        target=lambda: pca.update(r=client.get("/api/runs/conv3/map?projection=pca"))
    )
    asking.start()
    asking.join(timeout=60)
    waited = asking.is_alive()
    gate.set()
    assert not waited, "the PCA map waited for the t-SNE"
    assert pca["r"].status_code == 200 and pca["r"].json()["projection"] == "pca"
    states = [first.json()]
    deadline = time.time() + 120
    while states[-1]["state"] == "computing" and time.time() < deadline:
        time.sleep(0.2)
        states.append(client.post("/api/runs/conv3/map/job?projection=tsne").json())
    assert states[-1]["state"] == "ready" and states[-1]["progress"] == 1.0
    fractions = [s["progress"] for s in states if s["progress"] is not None]
    assert fractions == sorted(fractions) and all(0 < f <= 1 for f in fractions)
    seconds = [s["seconds"] for s in states]
    assert seconds == sorted(seconds)
    m = client.get("/api/runs/conv3/map?projection=tsne").json()
    assert m["projection"] == "tsne" and len(m["x"]) == 40  # the 160 blobs' test split


def test_linear_maps_are_ready_at_once_and_bad_requests_are_4xx() -> None:
    client = local_client(create_app([conv_explorer_run()]))
    r = client.post("/api/runs/conv3/map/job?projection=pca").json()
    assert r["state"] == "ready"
    assert client.post("/api/runs/conv3/map/job?projection=latent").status_code == 422
    assert client.post("/api/runs/conv3/map/job?projection=nope").status_code == 422
    assert client.post("/api/runs/conv3/map/job").status_code == 422
    assert client.post("/api/runs/nope/map/job?projection=tsne").status_code == 404


def four_points_client():
    """A client for a run of 4 points, too few for t-SNE."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(8,)))
    four = ImageSet(images=torch.randint(0, 256, (4, 1, 8, 8), dtype=torch.uint8))
    return local_client(create_app([ExplorerRun.from_model(model, four, name="four")]))


def poll_until_settled(client) -> dict:
    deadline, r = time.time() + 30, {"state": "computing"}
    while r["state"] == "computing" and time.time() < deadline:
        r = client.post("/api/runs/four/map/job?projection=tsne").json()
    return r


def test_a_map_that_cannot_be_computed_fails_with_the_reason() -> None:
    r = poll_until_settled(four_points_client())
    assert r["state"] == "failed" and "5 points" in r["message"]


class JobFailingWhileItsErrorIsRead(jobs.MapJob):
    """A map job whose worker starts only once a request reads its ``error`` and finishes
    before that read returns: the slowest interleaving a loaded machine can give."""

    def __init__(self, **fields) -> None:
        self.read, self.finished = threading.Event(), threading.Event()
        super().__init__(**fields)

    def run(self, *args) -> None:
        self.read.wait(timeout=30)
        super().run(*args)

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        if name == "done" and value:
            self.finished.set()

    def __getattribute__(self, name: str):
        value = super().__getattribute__(name)
        if name == "error" and threading.current_thread().name != "map-job":
            super().__getattribute__("read").set()
            super().__getattribute__("finished").wait(timeout=30)
        return value


def test_a_map_failing_while_its_state_is_read_is_never_called_ready(monkeypatch) -> None:
    monkeypatch.setattr(jobs, "MapJob", JobFailingWhileItsErrorIsRead)
    r = poll_until_settled(four_points_client())
    assert r["state"] == "failed" and "5 points" in r["message"]
