"""Lasso selection: the points inside a polygon on the map, counted, averaged and listed."""

from __future__ import annotations

import numpy as np
import torch
from fastapi.testclient import TestClient

from vae_atlas.run import Run


def codes(run: Run) -> np.ndarray:
    with torch.no_grad():
        return run.model.encode(run.dataset.test.images.float() / 255)[0].numpy()


def test_a_box_selects_the_points_inside_with_their_classes_and_mean(
    client: TestClient, vae2: Run
) -> None:
    mu, labels = codes(vae2), vae2.dataset.test.labels.numpy()
    x0, x1 = np.percentile(mu[:, 0], [20, 70])
    y0, y1 = np.percentile(mu[:, 1], [10, 60])
    box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    r = client.post("/api/runs/vae2/selection", json={"projection": "latent", "polygon": box})
    assert r.status_code == 200
    out = r.json()
    inside = np.flatnonzero((mu[:, 0] > x0) & (mu[:, 0] < x1) & (mu[:, 1] > y0) & (mu[:, 1] < y1))
    assert out["indices"] == inside.tolist() and len(inside) > 20
    assert out["counts"] == np.bincount(labels[inside], minlength=10).tolist()
    np.testing.assert_allclose(out["mean"], mu[inside].mean(0), atol=1e-5)
    assert len(out["members"]) == 24 and out["mean_image"].startswith("data:image/png")


def test_a_triangle_keeps_only_the_points_on_its_inner_side(client: TestClient, vae2: Run) -> None:
    mu = codes(vae2)
    tri = np.array([[-4.0, -4.0], [4.0, -4.0], [-4.0, 4.0]])  # inside: x + y < 0 (in the box)
    out = client.post(
        "/api/runs/vae2/selection", json={"projection": "latent", "polygon": tri.tolist()}
    ).json()
    expected = np.flatnonzero((mu.sum(1) < 0) & (mu.min(1) > -4))
    assert out["indices"] == expected.tolist()


def test_an_empty_lasso_and_bad_ones(client: TestClient) -> None:
    far = [[100, 100], [101, 100], [101, 101]]
    out = client.post("/api/runs/vae2/selection", json={"projection": "latent", "polygon": far})
    assert out.json()["indices"] == [] and out.json()["counts"] == [0] * 10
    assert out.json()["mean"] is None and out.json()["members"] == []
    bad = [
        {"projection": "latent", "polygon": [[0, 0], [1, 1]]},  # two vertices
        {"projection": "latent", "polygon": [[0, 0], [1, 1], [1e9, 0]]},  # out of range
        {"projection": "tsne", "polygon": far},  # no t-SNE for a 2-D run
        {"projection": "latent", "polygon": far, "members": 1000},
    ]
    for body in bad:
        assert client.post("/api/runs/vae2/selection", json=body).status_code == 422
    nan = '{"projection": "latent", "polygon": [[NaN, 0], [1, 1], [0, 1]]}'
    r = client.post(
        "/api/runs/vae2/selection", content=nan, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
