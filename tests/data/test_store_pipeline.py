"""The path a million-image store takes (``benchmarks/scale.py pipeline``), at 5,000 images:
``prepare`` procedural shapes, train one epoch from the store, build the report, open the
explorer on the run."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import vae_atlas as va
from vae_atlas.cli import main
from vae_atlas.explorer import create_app


@pytest.mark.slow  # five stages of the command line on 5,000 images: about 40 s on 2 cores
def test_prepare_train_report_explore_from_a_store(tmp_path):
    store, run = tmp_path / "store", tmp_path / "run"
    prepare = [
        "prepare",
        "--dataset",
        "shapes",
        "--image-size",
        "32",
        "--n-samples",
        "5000",
        "--test-fraction",
        "0.02",
        "--val-size",
        "100",
        "--out",
        str(store),
        "--quiet",
    ]
    assert main(prepare) == 0
    head = json.loads((store / "store.json").read_text())
    # 2 % of 5,000 for test, then 100 of the remaining 4,900 for validation
    assert {s: e["n"] for s, e in head["splits"].items()} == {
        "train": 4800,
        "val": 100,
        "test": 100,
    }
    train = ["train", "--dataset", "store", "--data-dir", str(store), "--epochs", "1",
             "--batch-size", "1024", "--latent-dim", "2", "--hidden", "64", "--quiet",
             "--out", str(run)]  # fmt: skip
    assert main(train) == 0
    loaded = va.load_run(run)
    assert loaded.config.data.name == "store" and loaded.metrics[0]["n_train"] == 4800
    assert main(["report", str(run), "--no-gif", "--projection", "pca"]) == 0
    assert (run / "report" / "index.html").stat().st_size > 1000
    client = TestClient(create_app([loaded]), base_url="http://127.0.0.1")
    runs = client.get("/api/runs").json()
    assert runs[0]["dataset"] == "store"
    points = client.get(f"/api/runs/{runs[0]['id']}/map").json()
    assert len(points["x"]) == 100  # every test image on the map
