"""The shown points in binary (map.bin, labels.bin): the same values as the model gives."""

from __future__ import annotations

import numpy as np
import torch
from fastapi.testclient import TestClient

from vae_atlas.run import Run


def test_latent_map_bin_is_the_posterior_means_as_float32_pairs(
    client: TestClient, vae2: Run
) -> None:
    r = client.get("/api/runs/vae2/map.bin")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    test = vae2.dataset.test
    assert len(r.content) == len(test) * 2 * 4  # two float32 per point
    xy = np.frombuffer(r.content, dtype="<f4").reshape(-1, 2)
    with torch.no_grad():
        mu, _ = vae2.model.encode(test.images.float() / 255)
    np.testing.assert_allclose(xy, mu.numpy(), atol=1e-5)


def test_dims_map_bin_holds_the_two_chosen_dimensions(client: TestClient, ae5: Run) -> None:
    xy = np.frombuffer(client.get("/api/runs/ae5/map.bin?projection=dims&dims=3,1").content, "<f4")
    with torch.no_grad():
        mu = ae5.model.encode(ae5.dataset.test.images.float() / 255)[0].numpy()
    np.testing.assert_allclose(xy.reshape(-1, 2), mu[:, [3, 1]], atol=1e-5)


def test_labels_bin_is_the_test_labels_as_int32(client: TestClient, vae2: Run) -> None:
    r = client.get("/api/runs/vae2/labels.bin")
    labels = np.frombuffer(r.content, dtype="<i4")
    assert labels.tolist() == vae2.dataset.test.labels.tolist()


def test_json_can_leave_out_what_the_binary_endpoints_carry(client: TestClient) -> None:
    m = client.get("/api/runs/vae2/map?points=false").json()
    assert m["x"] == [] and m["y"] == [] and m["projection"] == "latent"
    d = client.get("/api/runs/vae2?labels=false").json()
    assert d["labels"] is None and d["class_names"] is not None


def test_bad_binary_requests_are_4xx(client: TestClient) -> None:
    assert client.get("/api/runs/nope/map.bin").status_code == 404
    assert client.get("/api/runs/vae2/map.bin?projection=tsne").status_code == 422
    assert client.get("/api/runs/ae5/map.bin?projection=dims&dims=0,0").status_code == 422
    assert client.get("/api/runs/ae5/map.bin?projection=dims&dims=9,1").status_code == 422
    assert client.get("/api/runs/vae2/map.bin?dims=a,b").status_code == 422
