"""Uploads: size and shape caps read from the header, decoding off the event loop in a bounded
pool, and the MNIST layout of a drawn digit."""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import time

import numpy as np
import pytest
import torch
from fastapi import HTTPException
from fastapi.testclient import TestClient
from PIL import Image

from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.explorer.images import prepare_upload
from vae_atlas.explorer.layout import centre_ink
from vae_atlas.explorer.uploads import UploadPool
from vae_atlas.models import build_model

from .test_safety import png_header_only


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def uri_pixels(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


@pytest.mark.parametrize(
    ("size", "status"),
    [
        ((1, 16_000_000), 413),  # 15 KB on disk, a MemoryError when padded to a square
        ((30_000, 1), 413),
        ((4097, 100), 413),
        ((100, 1001), 422),  # one side more than 10 times the other
        ((1001, 100), 422),
    ],
)
def test_extreme_sizes_are_refused_from_the_header(client: TestClient, size, status) -> None:
    start = time.perf_counter()
    r = client.post("/api/runs/conv3/encode", content=png_header_only(*size))
    assert r.status_code == status, r.text
    assert str(size[0]) in r.json()["detail"] and str(size[1]) in r.json()["detail"]
    assert time.perf_counter() - start < 5


def test_the_largest_allowed_shapes_are_accepted(client: TestClient) -> None:
    for size in ((100, 1000), (1000, 100), (4096, 410)):
        r = client.post("/api/runs/conv3/encode", content=png(Image.new("L", size, 0)))
        assert r.status_code == 200, (size, r.text)


def test_other_requests_are_answered_while_an_upload_is_encoded(
    conv_run: ExplorerRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, events = threading.Event(), []
    real_encode = conv_run.encode

    def slow_encode(x, classes=None):
        events.append("upload started")
        release.wait(timeout=20)
        events.append("upload finished")
        return real_encode(x, classes)

    monkeypatch.setattr(conv_run, "encode", slow_encode)
    with TestClient(create_app([conv_run]), base_url="http://127.0.0.1") as client:
        result: dict = {}
        upload = threading.Thread(
            target=lambda: result.update(
                r=client.post("/api/runs/conv3/encode", content=png(Image.new("L", (28, 28))))
            )
        )
        upload.start()
        deadline = time.monotonic() + 20
        while not events and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.get("/api/runs").status_code == 200
        events.append("other request answered")
        release.set()
        upload.join(timeout=30)
    assert result["r"].status_code == 200
    assert events == ["upload started", "other request answered", "upload finished"]


def test_the_pool_refuses_work_beyond_its_backlog() -> None:
    pool = UploadPool(workers=1, backlog=1)
    release = threading.Event()

    async def scenario() -> list:
        first = asyncio.ensure_future(pool.run(lambda: release.wait(10) and "first"))
        second = asyncio.ensure_future(pool.run(lambda: "second"))
        await asyncio.sleep(0.05)
        with pytest.raises(HTTPException) as refused:
            await pool.run(lambda: "third")
        release.set()
        return [await first, await second, refused.value.status_code]

    assert asyncio.run(scenario()) == ["first", "second", 429]


def canvas(blocks, shape=(40, 40), ink=255, ground=0) -> np.ndarray:
    """A uint8 canvas with rectangles (top, left, height, width) of ink."""
    a = np.full(shape, ground, dtype=np.uint8)
    for top, left, h, w in blocks:
        a[top : top + h, left : left + w] = ink
    return a


def expected_field(blocks) -> np.ndarray:
    out = np.zeros((28, 28), dtype=np.float32)
    for top, left, h, w in blocks:
        out[top : top + h, left : left + w] = 1.0
    return out


def test_an_off_centre_square_is_scaled_to_20_and_centred() -> None:
    # 10x10 in a corner of a 100x100 canvas: scaled x2 to 20x20, centre of mass (9.5, 9.5)
    # moved to the field's centre (13.5, 13.5): rows and columns 4..23
    ink = canvas([(60, 5, 10, 10)], shape=(100, 100)) / 255.0
    np.testing.assert_allclose(centre_ink(ink, (28, 28)), expected_field([(4, 4, 20, 20)]))


def test_a_wide_bar_keeps_its_aspect_ratio() -> None:
    # 5 tall x 10 wide -> 10 x 20; centre of mass (4.5, 9.5) -> offset (9, 4)
    ink = canvas([(30, 3, 5, 10)]) / 255.0
    np.testing.assert_allclose(centre_ink(ink, (28, 28)), expected_field([(9, 4, 10, 20)]))


def test_the_centre_of_mass_not_the_box_is_centred() -> None:
    # a 20x20 box (no scaling): a 20x10 slab at its left and a 20x1 line at its right edge.
    # mass 200 at column 4.5 and 20 at column 19: centre column (900 + 380) / 220 = 5.82,
    # so the shift is round(13.5 - 5.82) = 8 columns and 13.5 - 9.5 = 4 rows
    ink = canvas([(7, 11, 20, 10), (7, 30, 20, 1)]) / 255.0
    expected = expected_field([(4, 8, 20, 10), (4, 27, 20, 1)])
    np.testing.assert_allclose(centre_ink(ink, (28, 28)), expected)


def test_a_blank_upload_stays_blank() -> None:
    assert not centre_ink(np.full((30, 30), 0.8), (28, 28)).any()


def test_dark_ink_on_white_is_inverted_then_laid_out() -> None:
    drawing = Image.fromarray(canvas([(60, 5, 10, 10)], shape=(100, 100), ink=0, ground=255))
    x, inverted = prepare_upload(drawing, (1, 28, 28), dataset_background=0.0, layout="mnist")
    assert inverted and x.shape == (1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], expected_field([(4, 4, 20, 20)]))


def test_the_api_returns_the_laid_out_input_and_says_how() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 28, 28), latent_dim=2, hidden=(16,)))
    images = ImageSet(torch.zeros((20, 1, 28, 28), dtype=torch.uint8))
    run = ExplorerRun.from_model(model, images, name="m", upload_layout="mnist")
    client = TestClient(create_app([run]), base_url="http://127.0.0.1")
    drawing = Image.fromarray(canvas([(60, 5, 10, 10)], shape=(100, 100), ink=0, ground=255))
    d = client.post("/api/runs/m/encode", content=png(drawing)).json()
    np.testing.assert_array_equal(uri_pixels(d["input"]), expected_field([(4, 4, 20, 20)]) * 255)
    assert "20x20" in d["normalisation"] and "centre of mass" in d["normalisation"]
    assert d["inverted"] is True and d["original_size"] == [100, 100]
