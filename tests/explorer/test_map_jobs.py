"""Slow maps computed in the background: progress, readiness, failures, the rest still usable."""

from __future__ import annotations

import time

import numpy as np
import torch

from vae_atlas.analysis.projection import project_latents
from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.models import build_model

from .conftest import conv_explorer_run, local_client


def test_tsne_reports_its_progress_up_to_one() -> None:
    mu = np.random.default_rng(0).normal(size=(120, 4))
    seen: list[float] = []
    project_latents(mu, "tsne", progress=seen.append)
    # openTSNE's 250 exaggerated + 500 plain iterations, heard every 25: 30 reports
    assert len(seen) == 30
    assert seen == sorted(seen) and seen[0] == 25 / 750 and seen[-1] == 1.0


def test_tsne_is_computed_in_the_background_while_pca_answers() -> None:
    client = local_client(create_app([conv_explorer_run()]))
    first = client.post("/api/runs/conv3/map/job?projection=tsne")
    assert first.status_code == 200 and first.json()["state"] in ("computing", "ready")
    states = [first.json()]
    deadline = time.time() + 120
    while states[-1]["state"] == "computing" and time.time() < deadline:
        t = time.perf_counter()
        assert client.get("/api/runs/conv3/map?projection=pca").status_code == 200
        assert time.perf_counter() - t < 2.0  # not waiting for the t-SNE
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


def test_a_map_that_cannot_be_computed_fails_with_the_reason() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(8,)))
    four = ImageSet(images=torch.randint(0, 256, (4, 1, 8, 8), dtype=torch.uint8))
    client = local_client(create_app([ExplorerRun.from_model(model, four, name="four")]))
    deadline, r = time.time() + 30, {"state": "computing"}
    while r["state"] == "computing" and time.time() < deadline:
        r = client.post("/api/runs/four/map/job?projection=tsne").json()
    assert r["state"] == "failed" and "5 points" in r["message"]
