"""The 3-D orbit view on the server: its basis, the turned map, and everything placed on it."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """Turn by yaw about the vertical axis, then by pitch about the horizontal one."""
    c, s = np.cos(yaw), np.sin(yaw)
    turn_yaw = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    c, s = np.cos(pitch), np.sin(pitch)
    turn_pitch = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return turn_pitch @ turn_yaw


def means(run) -> np.ndarray:
    with torch.no_grad():
        return run.model.encode(run.images.float_images())[0].double().numpy()


def test_a_3d_latent_turns_in_its_own_axes(client, conv_run) -> None:
    yaw, pitch = 0.7, -0.4
    m = client.get("/api/runs/conv3/map", params={"projection": "orbit", "orbit": f"{yaw},{pitch}"})
    assert m.status_code == 200, m.text
    m = m.json()
    mu = means(conv_run)
    expected = mu @ rotation(yaw, pitch)[:2].T  # (N, 2): no centring, z1..z3 themselves
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], expected, atol=2e-4)
    np.testing.assert_allclose(m["basis"], np.eye(3), atol=1e-12)
    np.testing.assert_allclose(m["linear"]["axes"], rotation(yaw, pitch)[:2], atol=1e-12)
    raw = client.get("/api/runs/conv3/orbit.bin").content
    np.testing.assert_allclose(np.frombuffer(raw, "<f4").reshape(-1, 3), mu, atol=1e-4)
    # a point's detail is placed on the turned map
    detail = client.get(
        "/api/runs/conv3/points/7", params={"projection": "orbit", "orbit": f"{yaw},{pitch}"}
    ).json()
    np.testing.assert_allclose(detail["position"], expected[7], atol=2e-4)


def test_a_larger_latent_shows_its_top_three_principal_axes(client, ae5) -> None:
    m = client.get("/api/runs/ae5/map", params={"projection": "orbit", "points": "false"}).json()
    basis = np.array(m["basis"])
    np.testing.assert_allclose(basis @ basis.T, np.eye(3), atol=1e-9)
    with torch.no_grad():
        mu = ae5.model.encode(ae5.dataset.test.float_images())[0].double().numpy()
    pca = PCA(3).fit(mu)
    # the same subspace (signs and order within may differ): equal projection matrices
    np.testing.assert_allclose(basis.T @ basis, pca.components_.T @ pca.components_, atol=1e-5)
    np.testing.assert_allclose(m["linear"]["center"], mu.mean(0), atol=1e-5)
    # yaw 0, pitch 0: the screen shows the first two principal axes
    np.testing.assert_allclose(m["linear"]["axes"], basis[:2], atol=1e-12)


def test_bad_orbits_are_422(client) -> None:
    for orbit in ("1", "a,b", "nan,0", "1e400,0", "0,0,0"):
        r = client.get("/api/runs/conv3/map", params={"projection": "orbit", "orbit": orbit})
        assert r.status_code == 422, orbit
    r = client.post(
        "/api/runs/conv3/place",
        json={"projection": "orbit", "orbit": [1e5, 0], "z": [[0, 0, 0]]},
    )
    assert r.status_code == 422
    r = client.get("/api/runs/vae2/map", params={"projection": "orbit"})
    assert r.status_code == 422 and "orbit" in r.json()["detail"]
    assert client.get("/api/runs/vae2/orbit.bin").status_code == 422


def test_the_lasso_and_placing_follow_the_turned_view(client, conv_run) -> None:
    yaw, pitch = 2.0, 0.9
    view = {"projection": "orbit", "orbit": [yaw, pitch]}
    turned = means(conv_run) @ rotation(yaw, pitch)[:2].T
    box = [[-0.05, -0.05], [0.05, -0.05], [0.05, 0.05], [-0.05, 0.05]]
    got = client.post("/api/runs/conv3/selection", json={**view, "polygon": box}).json()
    inside = np.flatnonzero((np.abs(turned) < 0.05).all(1))
    assert 0 < len(inside) < len(turned) and got["indices"] == inside.tolist()
    placed = client.post("/api/runs/conv3/place", json={**view, "z": [[1.0, 2.0, 3.0]]}).json()
    np.testing.assert_allclose(placed[0], rotation(yaw, pitch)[:2] @ [1, 2, 3], atol=1e-9)
