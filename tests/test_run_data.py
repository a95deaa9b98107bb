"""A run's data section is a description: loading a run never downloads, never writes outside
the run, and fetches only with an explicit download request and into the user's own folder."""

from __future__ import annotations

import json
import shutil

import pytest

import vae_atlas as va
from tests.conftest import make_blobs_dataset
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import DataError
from vae_atlas.training.data_access import DataAccess


@pytest.fixture
def hostile_run(tmp_path, mnist_dir, monkeypatch):
    """An MNIST-shaped run whose config.json asks for a download from a chosen URL into a chosen
    folder; the URL serves real MNIST, so any fetch would succeed and leave files behind."""
    served = tmp_path / "served"
    served.mkdir()
    for f in mnist_dir.glob("*.gz"):
        shutil.copy(f, served / f.name)
    monkeypatch.delenv("VAE_ATLAS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cfg = RunConfig(
        data=DataConfig(name="mnist"),
        model=ModelConfig(image_shape=(1, 28, 28), latent_dim=2, hidden=(8,)),
        train=TrainConfig(epochs=1, batch_size=64, probe_size=10),
    )
    run = tmp_path / "run"
    va.train(cfg, run, dataset=make_blobs_dataset(size=28), progress=False)
    raw = json.loads((run / "config.json").read_text())
    raw["data"].update(
        download=True, base_url=served.as_uri() + "/", data_dir=str(tmp_path / "planted")
    )
    (run / "config.json").write_text(json.dumps(raw))
    return run, tmp_path


def written_outside(tmp_path) -> list[str]:
    places = [tmp_path / "planted", tmp_path / "cache"]
    return [str(p) for folder in places if folder.exists() for p in folder.rglob("*")]


def test_loading_a_run_never_downloads(hostile_run):
    run_dir, tmp_path = hostile_run
    run = va.load_run(run_dir)
    with pytest.raises(DataError, match="--download"):
        run.dataset  # noqa: B018 - the property loads the data
    assert written_outside(tmp_path) == []


def test_cli_commands_on_a_run_never_download(hostile_run, capsys):
    run_dir, tmp_path = hostile_run
    assert main(["evaluate", str(run_dir), "--quick", "--no-write"]) == 1
    assert "--download" in capsys.readouterr().err
    assert written_outside(tmp_path) == []


def test_download_needs_the_request_and_goes_to_the_users_folder(hostile_run):
    run_dir, tmp_path = hostile_run
    mine = tmp_path / "mine"
    served = json.loads((run_dir / "config.json").read_text())["data"]["base_url"]
    access = DataAccess(data_dir=str(mine), download=True, base_url=served)
    run = va.load_run(run_dir, data=access)
    assert len(run.dataset.test) == 10_000
    assert sorted(p.name for p in mine.iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    assert written_outside(tmp_path) == []


def test_the_recorded_folder_is_still_read(hostile_run, mnist_dir):
    run_dir, tmp_path = hostile_run
    raw = json.loads((run_dir / "config.json").read_text())
    raw["data"]["data_dir"] = str(mnist_dir)
    (run_dir / "config.json").write_text(json.dumps(raw))
    assert len(va.load_run(run_dir).dataset.test) == 10_000
    assert written_outside(tmp_path) == []
