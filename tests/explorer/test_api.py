"""The explorer's JSON API against tiny trained runs (FastAPI's test client, no server)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from vae_atlas.analysis import encode_images
from vae_atlas.explorer import create_app
from vae_atlas.run import Run

from .conftest import local_client


def png_pixels(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    return np.asarray(img)


def test_runs_are_listed_with_unique_ids(client: TestClient, vae2: Run) -> None:
    runs = client.get("/api/runs").json()
    assert [r["id"] for r in runs] == ["vae2", "ae5", "conv3"]
    assert [r["latent_dim"] for r in runs] == [2, 5, 3]
    twice = local_client(create_app([vae2, vae2])).get("/api/runs").json()
    assert [r["id"] for r in twice] == ["vae2", "vae2-2"]


def test_run_detail_sorts_dimensions_by_kl(client: TestClient, vae2: Run) -> None:
    d = client.get("/api/runs/vae2").json()
    kls = [dim["kl"] for dim in d["dims"]]
    assert kls == sorted(kls, reverse=True)
    assert sorted(dim["index"] for dim in d["dims"]) == [0, 1]
    assert all(dim["active"] == (dim["kl"] >= 0.01) for dim in d["dims"])
    assert all(dim["lo"] <= -3 and dim["hi"] >= 3 for dim in d["dims"])
    assert d["labels"] == vae2.dataset.test.labels.tolist()
    assert d["projections"] == ["latent"] and d["in_page_decoder"] is True
    assert "N(0, I)" in d["prior"]


def test_plain_autoencoder_is_marked_deterministic(client: TestClient) -> None:
    d = client.get("/api/runs/ae5").json()
    assert d["stochastic"] is False
    assert set(d["projections"]) == {"pca", "dims", "umap", "tsne", "orbit"}
    assert d["default_projection"] == "pca"
    assert "fitted" in d["prior"]
    variances = [dim["variance"] for dim in d["dims"]]
    assert variances == sorted(variances, reverse=True)  # an AE sorts by variance (no KL)
    point = client.get("/api/runs/ae5/points/0").json()
    assert point["sigma"] is None and point["ellipse"] is None and point["cloud"] == []


def test_latent_map_is_the_posterior_means(client: TestClient, vae2: Run) -> None:
    m = client.get("/api/runs/vae2/map").json()
    mu = encode_images(vae2.model, vae2.dataset.test).mu
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], mu, atol=1e-4)
    assert m["linear"]["axes"] == [[1.0, 0.0], [0.0, 1.0]]


def test_pca_map_has_orthonormal_axes_and_projects_the_means(client: TestClient, ae5: Run) -> None:
    m = client.get("/api/runs/ae5/map?projection=pca").json()
    axes, center = np.array(m["linear"]["axes"]), np.array(m["linear"]["center"])
    np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-9)
    mu = encode_images(ae5.model, ae5.dataset.test).mu
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], (mu - center) @ axes.T, atol=1e-4)
    # the first axis carries at least as much variance as the second
    assert np.var(m["x"]) >= np.var(m["y"])


def test_dims_map_shows_two_chosen_dimensions(client: TestClient, ae5: Run) -> None:
    m = client.get("/api/runs/ae5/map?projection=dims&dims=3,1").json()
    mu = encode_images(ae5.model, ae5.dataset.test).mu
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], mu[:, [3, 1]], atol=1e-4)
    assert m["dims"] == [3, 1]


def test_decode_batch_matches_the_model(client: TestClient, vae2: Run) -> None:
    z = [[0.0, 0.0], [1.5, -0.5], [-2.0, 2.0]]
    with torch.no_grad():
        expected = vae2.model.decode(torch.tensor(z)).numpy()
    r = client.post("/api/runs/vae2/decode", json={"z": z, "format": "array"}).json()
    assert r["shape"] == [3, 1, 8, 8]
    np.testing.assert_allclose(np.array(r["data"]).reshape(3, 1, 8, 8), expected, atol=1e-4)
    pngs = client.post("/api/runs/vae2/decode", json={"z": z}).json()["images"]
    for uri, image in zip(pngs, expected, strict=True):
        np.testing.assert_array_equal(png_pixels(uri), np.rint(image[0] * 255).astype(np.uint8))


def test_single_png_decode(client: TestClient, vae2: Run) -> None:
    r = client.get("/api/runs/vae2/decode.png?z=0.25,-1")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    with torch.no_grad():
        expected = vae2.model.decode(torch.tensor([[0.25, -1.0]])).numpy()[0, 0]
    got = np.asarray(Image.open(io.BytesIO(r.content)))
    np.testing.assert_array_equal(got, np.rint(expected * 255).astype(np.uint8))


def test_conv_model_serves_its_decoder_for_the_page(client: TestClient) -> None:
    assert client.get("/api/runs/conv3").json()["in_page_decoder"] is True
    manifest = client.get("/api/runs/conv3/decoder").json()
    assert manifest["kind"] == "conv" and manifest["image_shape"] == [1, 28, 28]
    weights = client.get("/api/runs/conv3/decoder.bin").content
    # (8, 16) channels: linear 3 -> 16·7·7, then 16 -> 8 and 8 -> 1 channels with 4x4 kernels
    floats = (3 * 784 + 784) + (16 * 8 * 16 + 8) + (8 * 1 * 16 + 1)
    assert len(weights) == 4 * floats
    r = client.get("/api/runs/conv3/decode.png?z=0,0,0")  # the server still decodes too
    assert Image.open(io.BytesIO(r.content)).size == (28, 28)


def test_point_detail(client: TestClient, vae2: Run) -> None:
    i = 7
    d = client.get(f"/api/runs/vae2/points/{i}?k=5").json()
    np.testing.assert_array_equal(png_pixels(d["original"]), vae2.dataset.test.images[i, 0].numpy())
    assert d["label"] == int(vae2.dataset.test.labels[i])
    # nearest neighbours: five others, closest first, distances in latent space
    mu = encode_images(vae2.model, vae2.dataset.test).mu
    dists = [n["distance"] for n in d["neighbours"]]
    assert (
        len(dists) == 5
        and dists == sorted(dists)
        and i not in [n["index"] for n in d["neighbours"]]
    )
    n0 = d["neighbours"][0]
    assert n0["distance"] == pytest.approx(np.linalg.norm(mu[n0["index"]] - mu[i]), abs=1e-6)
    # on the latent plane the 1-σ ellipse's semi-axes are the posterior σ's (closed form)
    e = d["ellipse"]
    assert sorted([e["rx"], e["ry"]]) == pytest.approx(sorted(d["sigma"]), rel=1e-6)
    assert (e["cx"], e["cy"]) == pytest.approx(tuple(d["position"]))
    assert d["position"] == pytest.approx(list(mu[i]), abs=1e-5)
    assert len(d["cloud"]) == 48


def test_interpolation_linear_and_spherical(client: TestClient) -> None:
    a, b = [2.0, 0.0], [0.0, 2.0]
    body = {"a": a, "b": b, "steps": 5, "projection": "latent"}
    lin = client.post("/api/runs/vae2/interpolate", json=body).json()
    z = np.array(lin["z"])
    np.testing.assert_allclose(z[[0, -1]], [a, b])
    np.testing.assert_allclose(z[2], [1.0, 1.0])
    assert len(lin["images"]) == 5 and np.allclose(lin["path"], z)
    sph = client.post("/api/runs/vae2/interpolate", json={**body, "method": "spherical"}).json()
    zs = np.array(sph["z"])
    np.testing.assert_allclose(np.linalg.norm(zs, axis=1), 2.0, rtol=1e-5)  # on the circle
    np.testing.assert_allclose(zs[2], [np.sqrt(2), np.sqrt(2)], rtol=1e-5)


def test_samples_are_seeded(client: TestClient) -> None:
    body = {"n": 6, "seed": 3, "projection": "pca"}
    one = client.post("/api/runs/ae5/samples", json=body).json()
    two = client.post("/api/runs/ae5/samples", json=body).json()
    other = client.post("/api/runs/ae5/samples", json={**body, "seed": 4}).json()
    assert one["z"] == two["z"] and one["z"] != other["z"]
    assert len(one["images"]) == 6 and len(one["path"]) == 6


def test_inspect_and_place_any_code(client: TestClient) -> None:
    d = client.post(
        "/api/runs/vae2/inspect",
        json={"z": [0.5, 0.5], "sigma": [0.2, 0.1], "projection": "latent"},
    ).json()
    assert d["position"] == [0.5, 0.5]
    assert sorted([d["ellipse"]["rx"], d["ellipse"]["ry"]]) == pytest.approx([0.1, 0.2])
    placed = client.post(
        "/api/runs/ae5/place", json={"z": [[0, 0, 0, 0, 0]], "projection": "dims", "dims": [0, 2]}
    )
    assert placed.json() == [[0.0, 0.0]]


def test_lift_on_linear_map_lands_on_the_plane(client: TestClient) -> None:
    r = client.get("/api/runs/ae5/lift?projection=pca&x=0.3&y=-0.2").json()
    m = client.get("/api/runs/ae5/map?projection=pca").json()
    axes, center = np.array(m["linear"]["axes"]), np.array(m["linear"]["center"])
    np.testing.assert_allclose(axes @ (np.array(r["z"]) - center), [0.3, -0.2], atol=1e-9)


def test_tsne_map_places_and_lifts_approximately(client: TestClient, ae5: Run) -> None:
    m = client.get("/api/runs/ae5/map?projection=tsne").json()
    assert m["linear"] is None and len(m["x"]) == len(ae5.dataset.test)
    mu = encode_images(ae5.model, ae5.dataset.test).mu
    i = 11
    # lifting exactly at a data point's map position gives back (almost) its code
    z = client.get(f"/api/runs/ae5/lift?projection=tsne&x={m['x'][i]}&y={m['y'][i]}").json()["z"]
    np.testing.assert_allclose(z, mu[i], atol=1e-3)
    # and placing its code puts it at (almost) its position
    d = client.get(f"/api/runs/ae5/points/{i}?projection=tsne").json()
    assert d["position"] == pytest.approx([m["x"][i], m["y"][i]], abs=1e-3)


def test_tsne_map_is_cached_in_the_run_directory(client: TestClient, ae5: Run) -> None:
    first = client.get("/api/runs/ae5/map?projection=tsne").json()
    assert list((ae5.path / "cache").glob("projection-tsne-*.npz"))
    again = local_client(create_app([ae5])).get("/api/runs/ae5/map?projection=tsne").json()
    assert again["seconds"] == 0.0 and again["x"] == first["x"]


def test_openapi_schema_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/runs",
        "/api/runs/{run_id}/decode",
        "/api/runs/{run_id}/encode",
        "/api/runs/{run_id}/interpolate",
        "/api/runs/{run_id}/points/{index}",
    ):
        assert path in spec["paths"]
    assert spec["components"]["schemas"]["DecodeRequest"]["properties"]["z"]["maxItems"] == 256


def test_page_and_static_files_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404  # FastAPI's docs page needs a CDN
    page = client.get("/")
    assert "http://" not in page.text and "https://" not in page.text  # nothing remote
    assert page.status_code == 200 and 'id="points"' in page.text
    for name in ("app.js", "scatter.js", "decoder.js", "panels.js", "overlay.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_a_users_own_module_is_served(vae2: Run) -> None:
    class Mine(torch.nn.Module):
        """A deterministic toy model: encode = two pixel means, decode = a flat image."""

        def encode(self, x: torch.Tensor) -> torch.Tensor:
            flat = x.flatten(1)
            return torch.stack([flat[:, :32].mean(1), flat[:, 32:].mean(1)], 1)

        def decode(self, z: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 8, 8)

    from vae_atlas.explorer import ExplorerRun

    mine = ExplorerRun.from_model(Mine(), vae2.dataset.test, name="mine", latent_dim=2)
    c = local_client(create_app([mine]))
    d = c.get("/api/runs/mine").json()
    assert d["stochastic"] is False and d["in_page_decoder"] is False
    r = c.post("/api/runs/mine/decode", json={"z": [[0.0, 0.0]], "format": "array"}).json()
    np.testing.assert_allclose(r["data"], 0.5, atol=1e-6)
    assert c.get("/api/runs/mine/points/0").status_code == 200


@pytest.mark.slow
def test_umap_map(client: TestClient, ae5: Run) -> None:
    m = client.get("/api/runs/ae5/map?projection=umap").json()
    assert m["linear"] is None and len(m["x"]) == len(ae5.dataset.test)
    assert np.isfinite(m["x"]).all() and np.std(m["x"]) > 0


def test_rgb_images_round_trip() -> None:
    from vae_atlas.config import ModelConfig
    from vae_atlas.data import ImageSet
    from vae_atlas.explorer import ExplorerRun
    from vae_atlas.models import build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(3, 8, 8), latent_dim=3, hidden=(16,)))
    images = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8)
    c = local_client(create_app([ExplorerRun.from_model(model, ImageSet(images), name="rgb")]))
    d = c.get("/api/runs/rgb").json()
    assert d["image_shape"] == [3, 8, 8] and d["labels"] is None and d["class_names"] is None
    uri = c.post("/api/runs/rgb/decode", json={"z": [[0.1, 0.2, 0.3]]}).json()["images"][0]
    with torch.no_grad():
        expected = model.decode(torch.tensor([[0.1, 0.2, 0.3]]))[0].numpy()
    np.testing.assert_array_equal(
        png_pixels(uri), np.rint(np.moveaxis(expected, 0, -1) * 255).astype(np.uint8)
    )
    point = c.get("/api/runs/rgb/points/3").json()
    np.testing.assert_array_equal(
        png_pixels(point["original"]), np.moveaxis(images[3].numpy(), 0, -1)
    )
    buf = io.BytesIO()
    Image.fromarray(np.moveaxis(images[3].numpy(), 0, -1)).save(buf, format="PNG")
    up = c.post("/api/runs/rgb/encode", content=buf.getvalue()).json()
    assert up["neighbours"][0]["index"] == 3 and png_pixels(up["input"]).shape == (8, 8, 3)


def test_samples_name_their_source(client: TestClient, ae5: Run, vae2: Run) -> None:
    body = {"n": 144, "seed": 7, "projection": "pca"}
    vae = client.post("/api/runs/vae2/samples", json={"n": 4, "projection": "latent"}).json()
    assert vae["source_kind"] == "prior" and "N(0, I)" in vae["source"]
    fitted = client.post("/api/runs/ae5/samples", json=body).json()
    prior = client.post("/api/runs/ae5/samples", json={**body, "source": "prior"}).json()
    assert fitted["source_kind"] == "fitted" and "fitted" in fitted["source"]
    assert prior["source_kind"] == "prior"
    # same seed, same standard-normal draws: fitted = mean + prior draws @ chol(cov)^T
    mu = encode_images(ae5.model, ae5.dataset.test).mu.astype(np.float64)
    chol = np.linalg.cholesky(np.cov(mu, rowvar=False) + 1e-6 * np.eye(5))
    expected = mu.mean(0) + np.array(prior["z"]) @ chol.T
    np.testing.assert_allclose(fitted["z"], expected, atol=1e-4)
    bad = client.post("/api/runs/ae5/samples", json={**body, "source": "uniform"})
    assert bad.status_code == 422
