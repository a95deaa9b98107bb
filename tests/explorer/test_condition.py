"""The condition a cvae's codes are decoded under, chosen by the page: ``y`` (a class) or
``attrs`` (attribute values) on every decoding endpoint, checked against the run (a bad value is
a 422 naming the parameter, never a 5xx), and each code's own condition when none is given."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet, load_digits
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.models import build_model

from .conftest import local_client

NAMES = ("Smiling", "Male", "Age")


@pytest.fixture(scope="module")
def client(vae2):
    torch.manual_seed(0)
    digits = load_digits().test.subset(slice(0, 60))
    classes = build_model(
        ModelConfig(
            objective="cvae", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), n_classes=10
        )
    )
    attributes = build_model(
        ModelConfig(
            objective="cvae", image_shape=(1, 8, 8), latent_dim=2, hidden=(16,),
            condition="attributes", condition_attributes=NAMES,
        )
    )  # fmt: skip
    rng = np.random.default_rng(0)
    values = np.stack(
        [rng.integers(0, 2, 60), rng.integers(0, 2, 60), rng.normal(40, 10, 60)], axis=1
    )
    table = torch.tensor(values, dtype=torch.float32)
    attributes.fit_condition_scale(table)
    faces = ImageSet(digits.images, attributes=table)
    runs = [
        ExplorerRun("cls", "cls", classes, digits),
        ExplorerRun("att", "att", attributes, faces, attribute_names=NAMES),
        vae2,
    ]
    app = create_app(runs)
    return local_client(app), app.state.runs


def decode(client, run_id: str, z, **condition):
    body = {"z": z, "format": "array", **condition}
    return client.post(f"/api/runs/{run_id}/decode", json=body)


def test_the_run_detail_says_what_a_cvae_decodes_under(client, vae2) -> None:
    c, _ = client
    cls = c.get("/api/runs/cls").json()["condition"]
    assert cls == {"kind": "labels", "names": [str(i) for i in range(10)], "binary": None}
    att = c.get("/api/runs/att").json()["condition"]
    assert att == {"kind": "attributes", "names": list(NAMES), "binary": [True, True, False]}
    assert c.get(f"/api/runs/{vae2.name}").json()["condition"] is None


def test_a_chosen_class_decodes_every_code_under_it(client) -> None:
    c, runs = client
    model = runs["cls"].model
    z = [[0.3, -0.4], [1.0, 0.2]]
    out = decode(c, "cls", z, y=7)
    assert out.status_code == 200
    with torch.no_grad():
        expected = model.decode(torch.tensor(z), torch.tensor([7, 7])).numpy().ravel()
    assert np.allclose(out.json()["data"], expected, atol=1e-4)
    png = c.get("/api/runs/cls/decode.png", params={"z": "0.3,-0.4", "y": 7})
    pixels = np.asarray(Image.open(io.BytesIO(png.content)), dtype=np.float64) / 255.0
    assert np.abs(pixels.ravel() - expected[:64]).max() <= 0.5 / 255 + 1e-9


def test_no_choice_decodes_under_the_nearest_points_own_condition(client) -> None:
    c, runs = client
    run = runs["att"]
    z = run.latents.mu[:3]
    own = torch.tensor(run.conditions[:3])
    with torch.no_grad():
        expected = run.model.decode(torch.tensor(z, dtype=torch.float32), own).numpy()
    out = decode(c, "att", z.tolist())
    assert np.allclose(out.json()["data"], expected.ravel(), atol=1e-4)


def test_chosen_attributes_decode_the_hand_built_condition(client) -> None:
    c, runs = client
    model = runs["att"].model
    z = [[0.1, 0.2]]
    with torch.no_grad():
        expected = model.decode(torch.tensor(z), torch.tensor([[1.0, 0.0, 55.0]])).numpy()
    out = decode(c, "att", z, attrs=[1, 0, 55])
    assert np.allclose(out.json()["data"], expected.ravel(), atol=1e-4)
    png = c.get("/api/runs/att/decode.png", params={"z": "0.1,0.2", "attrs": "1,0,55"})
    assert png.status_code == 200


def test_interpolation_and_samples_decode_under_the_chosen_class(client) -> None:
    c, runs = client
    model = runs["cls"].model
    path = c.post(
        "/api/runs/cls/interpolate",
        json={"a": [0, 0], "b": [1, 1], "steps": 3, "y": 2, "projection": "latent"},
    ).json()
    samples = c.post("/api/runs/cls/samples", json={"n": 4, "y": 2, "projection": "latent"}).json()
    for answer in (path, samples):
        z = torch.tensor(answer["z"], dtype=torch.float32)
        with torch.no_grad():
            expected = model.decode(z, torch.full((len(z),), 2)).numpy()
        for uri, image in zip(answer["images"], expected, strict=True):
            png = Image.open(io.BytesIO(_png_bytes(uri)))
            got = np.asarray(png, dtype=np.float64) / 255.0
            assert np.abs(got - image[0]).max() <= 0.5 / 255 + 1e-6


def _png_bytes(uri: str) -> bytes:
    import base64

    return base64.b64decode(uri.split(",", 1)[1])


@pytest.mark.parametrize(
    ("run_id", "condition", "named"),
    [
        ("cls", {"y": 10}, "y=10 is not a class of this run (0..9)"),
        ("cls", {"y": -1}, "y"),
        ("cls", {"y": "3"}, "y"),
        ("cls", {"attrs": [1, 0, 1]}, "attrs applies to a cvae conditioned on attributes"),
        ("att", {"y": 1}, "y (a class to decode under) applies to a cvae conditioned on labels"),
        ("att", {"attrs": [1, 0]}, "attrs has 2 values; this run is conditioned on 3"),
        ("att", {"attrs": [0.5, 0, 1]}, "attrs[0] (Smiling) is binary: 0 or 1"),
        ("att", {"attrs": [1, 0, 1], "y": 1}, "not both"),
    ],
)
def test_a_bad_condition_is_a_422_naming_the_parameter(client, run_id, condition, named) -> None:
    c, _ = client
    out = decode(c, run_id, [[0.0, 0.0]], **condition)
    assert out.status_code == 422, out.text
    assert named in out.text


def test_a_condition_for_a_plain_vae_or_a_bad_query_is_a_422(client, vae2) -> None:
    c, _ = client
    out = decode(c, vae2.name, [[0.0, 0.0]], y=1)
    assert out.status_code == 422 and "this run is not a cvae" in out.text
    for params, named in (
        ({"z": "0,0", "y": "seven"}, "y"),
        ({"z": "0,0", "attrs": "1,x,0"}, "attrs must be comma-separated numbers"),
        ({"z": "0,0", "attrs": "1,0,nan"}, "attrs[2] (Age) must be a finite number"),
    ):
        run_id = "cls" if "y" in params else "att"
        got = c.get(f"/api/runs/{run_id}/decode.png", params=params)
        assert got.status_code == 422 and named in got.text, got.text


def _upload(c, run_id: str, **params):
    drawing = np.zeros((8, 8), dtype=np.uint8)
    drawing[1:7, 3:5] = 255  # a "1"
    buf = io.BytesIO()
    Image.fromarray(drawing).save(buf, format="PNG")
    return c.post(f"/api/runs/{run_id}/encode", params=params, content=buf.getvalue())


def _seen(answer: dict) -> torch.Tensor:
    """The image the encoder was given, as the answer shows it (1, 1, 8, 8)."""
    png = Image.open(io.BytesIO(_png_bytes(answer["input"])))
    return torch.tensor(np.asarray(png, dtype=np.float32) / 255.0)[None, None]


@pytest.mark.parametrize(
    ("run_id", "params", "condition"),
    [
        ("cls", {"y": 3}, torch.tensor([3])),
        ("att", {"attrs": "1,0,52.5"}, torch.tensor([[1.0, 0.0, 52.5]])),
    ],
)
def test_an_upload_to_a_cvae_is_encoded_and_reconstructed_under_the_chosen_condition(
    client, run_id, params, condition
) -> None:
    c, runs = client
    model = runs[run_id].model
    answer = _upload(c, run_id, **params)
    assert answer.status_code == 200, answer.text
    d = answer.json()
    x = _seen(d)
    with torch.no_grad():
        mu = model.encode(x, condition)[0]
        other = model.encode(x, torch.tensor([5]) if run_id == "cls" else 1 - condition)[0]
        recon = model.decode(torch.tensor([d["mu"]], dtype=torch.float32), condition)[0, 0]
    assert np.abs(np.asarray(d["mu"]) - mu[0].numpy()).max() < 1e-3  # (the PNG rounds x)
    assert (other - mu).abs().max() > 0.02  # so the condition used is the one chosen
    shown = np.asarray(Image.open(io.BytesIO(_png_bytes(d["reconstruction"]))), dtype=np.float64)
    assert np.abs(shown / 255.0 - recon.numpy()).max() <= 1 / 255


@pytest.mark.parametrize(
    ("run_id", "named"),
    [
        (
            "cls",
            'this run is a cvae: encoding an image needs its class; choose one in "decode as"',
        ),
        ("att", "needs its attributes (Smiling, Male, Age); choose them in"),
    ],
)
def test_an_upload_to_a_cvae_without_a_condition_is_refused_in_one_line(
    client, run_id, named
) -> None:
    c, _ = client
    answer = _upload(c, run_id)
    assert answer.status_code == 422
    message = answer.json()["detail"]
    assert named in message and "\n" not in message
    bad = _upload(c, run_id, y=12) if run_id == "cls" else _upload(c, run_id, attrs="1,0")
    assert bad.status_code == 422  # a value the run cannot take: the decoding endpoints' checks
