"""Every invalid request gets a 4xx with a message — never a 500, never a crashed server."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from vae_atlas.explorer.images import MAX_UPLOAD_BYTES

JSON = {"content-type": "application/json"}

BAD_POSTS = [
    ("decode", '{"z": [[0, NaN]]}'),
    ("decode", '{"z": [[0, Infinity]]}'),
    ("decode", '{"z": [[0, -Infinity]]}'),
    ("decode", '{"z": [[0, 1e300]]}'),
    ("decode", '{"z": [[0, 1, 2]]}'),
    ("decode", '{"z": [[0]]}'),
    ("decode", '{"z": [[0, 0], [1]]}'),
    ("decode", '{"z": []}'),
    ("decode", '{"z": [[]]}'),
    ("decode", '{"z": [["a", 1]]}'),
    ("decode", '{"z": "0,0"}'),
    ("decode", '{"z": [[0, 0]], "format": "gif"}'),
    ("decode", '{"z": [[0, 0]], "path": "/etc/passwd"}'),
    ("decode", json.dumps({"z": [[0.0, 0.0]] * 257})),
    ("decode", "not json at all"),
    ("decode", ""),
    ("decode", "[1, 2]"),
    ("interpolate", '{"a": [0, 0], "b": [1, NaN]}'),
    ("interpolate", '{"a": [0, 0], "b": [1, 1], "steps": 1}'),
    ("interpolate", '{"a": [0, 0], "b": [1, 1], "steps": 100000}'),
    ("interpolate", '{"a": [0, 0], "b": [1, 1], "method": "cubic"}'),
    ("interpolate", '{"a": [0, 0], "b": [1, 1, 1]}'),
    ("interpolate", '{"a": [0, 0], "b": [1, 1], "projection": "pca"}'),
    ("interpolate", '{"a": [0, 0], "b": [1, 1], "projection": "../../etc"}'),
    ("samples", '{"n": 0}'),
    ("samples", '{"n": 100000}'),
    ("samples", '{"seed": -1}'),
    ("place", '{"z": [[1e5, 0]]}'),
    ("inspect", '{"z": [0, 0], "sigma": [0, 1]}'),
    ("inspect", '{"z": [0, 0], "sigma": [1]}'),
    ("inspect", '{"z": [0, 0], "k": 1000}'),
]


@pytest.mark.parametrize(("endpoint", "body"), BAD_POSTS)
def test_bad_json_bodies_are_422(client: TestClient, endpoint: str, body: str) -> None:
    r = client.post(f"/api/runs/vae2/{endpoint}", content=body, headers=JSON)
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload.get("message") or isinstance(payload.get("detail"), str)


BAD_GETS = [
    ("/api/runs/nope", 404),
    ("/api/runs/..%2F..%2Fetc", 404),
    ("/api/runs/vae2/points/100000", 404),
    ("/api/runs/vae2/points/-1", 404),
    ("/api/runs/vae2/points/abc", 422),
    ("/api/runs/vae2/points/1?k=99", 422),
    ("/api/runs/vae2/map?projection=pca", 422),
    ("/api/runs/vae2/map?projection=nonsense", 422),
    ("/api/runs/ae5/map?projection=dims&dims=0,0", 422),
    ("/api/runs/ae5/map?projection=dims&dims=0,9", 422),
    ("/api/runs/ae5/map?projection=dims&dims=../x", 422),
    ("/api/runs/ae5/map?projection=latent", 422),
    ("/api/runs/vae2/decode.png?z=0,nan", 422),
    ("/api/runs/vae2/decode.png?z=0,inf", 422),
    ("/api/runs/vae2/decode.png?z=0,1e400", 422),
    ("/api/runs/vae2/decode.png?z=1", 422),
    ("/api/runs/vae2/decode.png?z=a,b", 422),
    ("/api/runs/vae2/decode.png?z=", 422),
    ("/api/runs/vae2/decode.png", 422),
    ("/api/runs/vae2/lift?x=nan&y=0", 422),
    ("/api/runs/vae2/lift?x=0", 422),
    ("/api/runs/vae2/decoder.bin/../../config.json", 404),
    ("/static/../app.py", 404),
    ("/static/..%2Fapp.py", 404),
    ("/static/%2e%2e/%2e%2e/run.py", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD_GETS)
def test_bad_queries_and_paths(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (a decompression bomb) with a tiny body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def encoded(fmt: str, size: tuple[int, int] = (16, 16), mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 0).save(buf, format=fmt)
    return buf.getvalue()


BAD_UPLOADS = [
    ("empty", b"", 422),
    ("text", b"hello, I am not an image", 422),
    ("truncated png", encoded("PNG", (64, 64))[:60], 422),
    ("truncated jpeg", encoded("JPEG", (64, 64))[:200], 422),
    ("gif", encoded("GIF"), 422),
    ("bmp", encoded("BMP"), 422),
    ("bomb", png_header_only(30_000, 30_000), 413),
    ("too many bytes", b"\x89PNG" + b"\x00" * (MAX_UPLOAD_BYTES + 10), 413),
]


@pytest.mark.parametrize(("name", "data", "status"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_uploads_are_rejected(client: TestClient, name: str, data: bytes, status: int) -> None:
    r = client.post("/api/runs/vae2/encode", content=data, headers={"content-type": "image/png"})
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str)


def test_upload_options_are_validated(client: TestClient) -> None:
    r = client.post("/api/runs/vae2/encode?invert=maybe", content=encoded("PNG"))
    assert r.status_code == 422


def test_server_still_answers_after_bad_requests(client: TestClient) -> None:
    for endpoint, body in BAD_POSTS[:5]:
        client.post(f"/api/runs/vae2/{endpoint}", content=body, headers=JSON)
    assert client.post("/api/runs/vae2/decode", json={"z": [[0, 0]]}).status_code == 200


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e4, max_value=1e4)
anything = st.one_of(
    st.floats(),
    st.integers(-(10**30), 10**30),
    st.text(max_size=5),
    st.sampled_from(["1", "0.5", "nan"]),
    st.booleans(),
    st.none(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(z=st.lists(st.one_of(finite, anything), min_size=0, max_size=4))
def test_decode_accepts_exactly_the_valid_codes(client: TestClient, z: list) -> None:
    body = json.dumps({"z": [z]}, allow_nan=True)
    r = client.post("/api/runs/vae2/decode", content=body, headers=JSON)
    valid = len(z) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= 1e4 and v == v
        for v in z
    )
    assert r.status_code == (200 if valid else 422), (z, r.text)
