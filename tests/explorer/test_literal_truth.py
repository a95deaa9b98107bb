"""Explorer answers against independent truth: the posterior σ in responses is the model's
exp(½·logvar), and the upload cap is the 5 MB (5 × 1024 × 1024 bytes) that the docs promise."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from vae_atlas.explorer.geometry import posterior_samples
from vae_atlas.run import Run

FIVE_MB = 5 * 1024 * 1024


def png_of_size(total: int) -> bytes:
    """A valid 8x8 grey PNG padded to exactly ``total`` bytes with a private ancillary chunk."""
    buf = io.BytesIO()
    Image.new("L", (8, 8), 200).save(buf, format="PNG")
    png = buf.getvalue()
    end = png.rindex(b"IEND") - 4  # the IEND chunk starts with its 4-byte length
    pad = total - len(png) - 12  # length, type and CRC around the padding
    kind, body = b"prVt", b"\x00" * pad
    chunk = struct.pack(">I", pad) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    out = png[:end] + chunk + png[end:]
    assert len(out) == total
    return out


@pytest.mark.parametrize("i", [0, 7, 31])
def test_point_sigma_is_exp_half_logvar_of_the_model(client: TestClient, vae2: Run, i: int):
    d = client.get(f"/api/runs/vae2/points/{i}").json()
    x = vae2.dataset.test.images[i : i + 1].float() / 255.0
    with torch.no_grad():
        mu, logvar = vae2.model.encode(x)
    np.testing.assert_allclose(d["mu"], mu[0].double().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d["sigma"], torch.exp(0.5 * logvar[0]).double().numpy(), rtol=1e-5)


def test_upload_sigma_is_exp_half_logvar_of_the_model(client: TestClient, vae2: Run):
    # an 8x8 upload on a digits model needs no resizing; uint8 grey levels as the dataset stores
    pixels = vae2.dataset.test.images[3, 0].numpy()
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    d = client.post("/api/runs/vae2/encode?invert=no", content=buf.getvalue()).json()
    with torch.no_grad():
        _, logvar = vae2.model.encode(torch.as_tensor(pixels / 255.0).float()[None, None])
    np.testing.assert_allclose(d["sigma"], torch.exp(0.5 * logvar[0]).double().numpy(), rtol=1e-4)


@pytest.mark.parametrize(
    ("size", "status"), [(FIVE_MB - 1, 200), (FIVE_MB, 200), (FIVE_MB + 1, 413)]
)
def test_upload_cap_is_five_megabytes(client: TestClient, size: int, status: int):
    r = client.post(
        "/api/runs/vae2/encode", content=png_of_size(size), headers={"content-type": "image/png"}
    )
    assert r.status_code == status, r.text[:200]


def test_posterior_cloud_spreads_by_sigma():
    draws = posterior_samples(np.array([1.0, -2.0]), np.array([2.0, 0.5]), 20_000)
    assert draws.mean(0) == pytest.approx([1.0, -2.0], abs=0.05)
    assert draws.std(0) == pytest.approx([2.0, 0.5], rel=0.03)
