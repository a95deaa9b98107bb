"""GET /api/runs/{id}/names: the shown images found by their file names."""

from __future__ import annotations

import torch

from vae_atlas.config import ModelConfig
from vae_atlas.data import ImageSet
from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.models import build_model

from .conftest import local_client

NAMES = ("cats/tabby.png", "dogs/trex.png", "cats/Tabby-2.png", "dogs/cats-friend.png", "rex.png")


def named_client():
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 4, 4), latent_dim=2, hidden=(8,)))
    images = torch.randint(0, 256, (5, 1, 4, 4), dtype=torch.uint8)
    named = ExplorerRun.from_model(model, ImageSet(images, names=NAMES), name="named")
    bare = ExplorerRun.from_model(model, ImageSet(images), name="bare")
    return local_client(create_app([named, bare]))


def test_names_match_by_substring_ignoring_case_exact_first() -> None:
    client = named_client()
    got = client.get("/api/runs/named/names", params={"q": "TABBY"}).json()
    assert got == {
        "searchable": True,
        "total": 2,
        "indices": [0, 2],
        "names": ["cats/tabby.png", "cats/Tabby-2.png"],
    }
    # "rex.png" is the whole name of #4 and only part of #1's file name: the exact one first
    assert client.get("/api/runs/named/names", params={"q": "rex.png"}).json()["indices"] == [4, 1]
    # a file name alone (an attribute table's key) is exact too
    assert client.get("/api/runs/named/names", params={"q": "trex.png"}).json()["indices"] == [1]
    # "cats" is the folder of #0 and #2 and part of #3's file name
    assert client.get("/api/runs/named/names", params={"q": "cats"}).json()["indices"] == [0, 2, 3]
    assert client.get("/api/runs/named/names", params={"q": "zebra"}).json()["total"] == 0


def test_images_without_names_are_not_searchable_and_bad_queries_are_4xx() -> None:
    client = named_client()
    got = client.get("/api/runs/bare/names", params={"q": "x"}).json()
    assert got == {"searchable": False, "total": 0, "indices": [], "names": []}
    assert client.get("/api/runs/named/names").status_code == 422
    assert client.get("/api/runs/named/names", params={"q": ""}).status_code == 422
    assert client.get("/api/runs/named/names", params={"q": "x" * 513}).status_code == 422
    assert client.get("/api/runs/nope/names", params={"q": "x"}).status_code == 404
