"""Following a run while it trains: each finished epoch's weights replace the shown ones."""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import procrustes

from vae_atlas import load_run, train
from vae_atlas.data import load_digits
from vae_atlas.explorer import create_app

from .conftest import local_client, tiny_config

LONG = 3600.0  # the follower thread never looks by itself here: the tests call poll()


def encoded(path) -> np.ndarray:
    run = load_run(path)
    with torch.no_grad():
        return run.model.encode(run.dataset.test.float_images())[0].numpy()


def procrustes_onto(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``points`` (N, 2) shifted, turned, mirrored and scaled onto ``reference`` by SciPy's
    Procrustes analysis, which standardises both sets itself: its result in reference units."""
    reference = np.asarray(reference, np.float64)
    _, moved, _ = procrustes(reference, np.asarray(points, np.float64))
    centred = reference - reference.mean(0)
    return moved * np.linalg.norm(centred) + reference.mean(0)


def test_each_new_epoch_is_loaded_and_said(tmp_path) -> None:
    torch.set_num_threads(1)
    data, out = load_digits(), tmp_path / "live"
    train(tiny_config("vae", 2, epochs=1), out, dataset=data, progress=False, log=print)
    app = create_app([load_run(out)], follow_runs=True, follow_interval=LONG)
    client, follower = local_client(app), app.state.followers["live"]
    first = client.get("/api/runs/live/follow").json()
    assert first["following"] and first["epoch"] == 1 and first["version"] == 0
    assert first["epochs"] == 1 and first["status"] == "complete"
    assert first["metrics"]["epoch"] == 1
    assert not follower.poll()  # nothing new
    shown = client.get("/api/runs/live/map").json()
    assert shown["frame"] is None  # the first map is the latent plane itself
    # two more epochs, as `vae-atlas train --resume --epochs 3` would add them
    train(
        tiny_config("vae", 2, epochs=3), out, dataset=data, resume=True, progress=False, log=print
    )
    assert follower.poll()
    now = client.get("/api/runs/live/follow").json()
    assert now["epoch"] == 3 and now["version"] == 1 and now["epochs"] == 3
    assert now["metrics"]["epoch"] == 3
    # the map is the newest weights' codes turned onto the map shown before
    m = client.get("/api/runs/live/map").json()
    xy, mu = np.c_[m["x"], m["y"]], encoded(out)
    np.testing.assert_allclose(xy, procrustes_onto(mu, np.c_[shown["x"], shown["y"]]), atol=1e-4)
    assert m["frame"] is not None
    # a point's place on the turned map lifts back to that point's newest code
    for i in (0, 9):
        z = client.get(f"/api/runs/live/lift?x={xy[i, 0]}&y={xy[i, 1]}").json()["z"]
        np.testing.assert_allclose(z, mu[i], atol=1e-3)
    assert client.get("/api/runs/live/points/0").status_code == 200


def test_damaged_files_keep_the_shown_weights_and_say_why(tmp_path) -> None:
    torch.set_num_threads(1)
    out = tmp_path / "live"
    train(tiny_config("vae", 2, epochs=1), out, dataset=load_digits(), progress=False, log=print)
    before = encoded(out)
    app = create_app([load_run(out)], follow_runs=True, follow_interval=LONG)
    client, follower = local_client(app), app.state.followers["live"]
    (out / "model.safetensors").write_bytes(b"\x00" * 3)
    (out / "state.json").write_text('{"status": "running", "epochs_completed": 2}')
    assert not follower.poll()
    got = client.get("/api/runs/live/follow").json()
    assert got["epoch"] == 1 and got["version"] == 0
    assert "model.safetensors" in got["error"]
    m = client.get("/api/runs/live/map").json()
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], before, atol=1e-4)


def test_runs_are_not_followed_unless_asked(vae2) -> None:
    client = local_client(create_app([vae2]))
    got = client.get(f"/api/runs/{vae2.name}/follow").json()
    assert got["following"] is False and got["epoch"] is None
