"""Uploads: preprocessed like the dataset, encoded, placed on the map with their neighbours."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from vae_atlas.analysis import encode_images
from vae_atlas.explorer.images import border_brightness, open_upload, prepare_upload
from vae_atlas.run import Run


def as_bytes(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_exact_test_image_encodes_to_its_own_code(client: TestClient, vae2: Run) -> None:
    i = 5
    pixels = vae2.dataset.test.images[i, 0].numpy()
    r = client.post(
        "/api/runs/vae2/encode?projection=latent", content=as_bytes(Image.fromarray(pixels))
    )
    assert r.status_code == 200, r.text
    d = r.json()
    mu = encode_images(vae2.model, vae2.dataset.test).mu
    np.testing.assert_allclose(d["mu"], mu[i], atol=1e-5)
    assert d["inverted"] is False and d["original_size"] == [8, 8]
    assert d["neighbours"][0]["index"] == i and d["neighbours"][0]["distance"] < 1e-5
    assert d["position"] == pytest.approx(list(mu[i]), abs=1e-5)
    assert d["ellipse"] is not None and len(d["cloud"]) == 48


def test_light_background_is_inverted_to_match_dark_digits(client: TestClient, vae2: Run) -> None:
    i = 9
    pixels = vae2.dataset.test.images[i, 0].numpy()
    # dark ink on a white page, 8x larger, as RGB JPEG — how people draw digits
    img = Image.fromarray(255 - pixels).resize((64, 64), Image.Resampling.NEAREST).convert("RGB")
    d = client.post("/api/runs/vae2/encode", content=as_bytes(img, "PNG")).json()
    assert d["inverted"] is True and d["original_size"] == [64, 64]
    mu = encode_images(vae2.model, vae2.dataset.test).mu
    # resizing blurs a little, so the code is close to (not equal to) the original's
    assert np.linalg.norm(np.array(d["mu"]) - mu[i]) < 0.5 * np.linalg.norm(mu.std(0))
    jpeg = client.post("/api/runs/vae2/encode", content=as_bytes(img, "JPEG", quality=95))
    assert jpeg.status_code == 200 and jpeg.json()["inverted"] is True
    forced = client.post("/api/runs/vae2/encode?invert=no", content=as_bytes(img)).json()
    assert forced["inverted"] is False


def test_prepare_upload_flattens_transparency_and_pads_to_square() -> None:
    rgba = Image.new("RGBA", (40, 20), (0, 0, 0, 0))  # fully transparent: becomes white
    rgba.paste((0, 0, 0, 255), (15, 2, 25, 18))  # a dark block in the middle
    x, inverted = prepare_upload(rgba, (1, 8, 8), dataset_background=0.0)
    assert x.shape == (1, 8, 8) and x.dtype == np.float32
    assert inverted is True  # light background vs a dark-background dataset
    assert border_brightness(x[None]) < 0.05 and x.max() > 0.5  # bright block on black
    grey = Image.new("L", (10, 10), 30)
    rgb, _ = prepare_upload(grey, (3, 16, 16), dataset_background=0.0)
    assert rgb.shape == (3, 16, 16)
    np.testing.assert_allclose(rgb, 30 / 255, atol=1e-6)


def test_auto_invert_only_in_clear_cases() -> None:
    light, dark, grey = (Image.new("L", (8, 8), v) for v in (240, 10, 128))
    assert prepare_upload(light, (1, 8, 8), dataset_background=0.02)[1] is True
    assert prepare_upload(dark, (1, 8, 8), dataset_background=0.95)[1] is True
    assert prepare_upload(dark, (1, 8, 8), dataset_background=0.02)[1] is False
    assert prepare_upload(light, (1, 8, 8), dataset_background=0.5)[1] is False
    assert prepare_upload(grey, (1, 8, 8), dataset_background=0.02)[1] is False
    assert prepare_upload(grey, (1, 8, 8), dataset_background=0.5, invert="yes")[1] is True


def test_open_upload_decodes_fully() -> None:
    img = open_upload(as_bytes(Image.new("L", (12, 7), 200)))
    assert img.size == (12, 7) and img.getpixel((3, 3)) == 200
