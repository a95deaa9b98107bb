"""load_run: rebuilds the model from safetensors + JSON, and names the file and field of any
damage."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

import vae_atlas as va
from vae_atlas.checkpoint import RunFileError, load_tensors

from .tiny_runs import tiny_config


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory,
):
    from tests.conftest import make_blobs_dataset

    cfg = tiny_config(latent_dim=3, hidden=(16,), epochs=1, probe_size=20)
    out = tmp_path_factory.mktemp("runs") / "r"
    va.train(cfg, out, dataset=make_blobs_dataset(), progress=False)
    return out


@pytest.fixture
def run_copy(trained, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(trained, dst)
    return dst


def test_load_run_round_trip(trained):
    run = va.load_run(trained)
    assert run.config.model.latent_dim == 3
    assert not run.model.training
    assert run.metrics[-1]["epoch"] == 1
    assert run.state["status"] == "complete"
    saved = load_tensors(trained / "model.safetensors")[0]
    for name, value in run.model.state_dict().items():
        assert torch.equal(value, saved[name])


def test_missing_directory(tmp_path):
    with pytest.raises(RunFileError, match="not a run directory"):
        va.load_run(tmp_path / "nope")


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_missing_file_is_named(run_copy, name):
    (run_copy / name).unlink()
    with pytest.raises(RunFileError, match=name.replace(".", r"\.")):
        va.load_run(run_copy)


def test_extra_files_are_ignored(run_copy):
    (run_copy / "notes.txt").write_text("mine")
    assert va.load_run(run_copy).config.model.latent_dim == 3


def test_corrupt_config_json(run_copy):
    (run_copy / "config.json").write_text("{not json")
    with pytest.raises(RunFileError, match=r"config\.json.*not valid JSON"):
        va.load_run(run_copy)


def test_config_wrong_type_names_field(run_copy):
    raw = json.loads((run_copy / "config.json").read_text())
    raw["model"]["latent_dim"] = "3"
    (run_copy / "config.json").write_text(json.dumps(raw))
    with pytest.raises(RunFileError, match=r"model\.latent_dim"):
        va.load_run(run_copy)


def test_config_from_newer_version(run_copy):
    raw = json.loads((run_copy / "config.json").read_text())
    raw["schema_version"] = 99
    (run_copy / "config.json").write_text(json.dumps(raw))
    with pytest.raises(RunFileError, match="newer vae-atlas"):
        va.load_run(run_copy)


def test_truncated_safetensors(run_copy):
    data = (run_copy / "model.safetensors").read_bytes()
    (run_copy / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunFileError, match=r"model\.safetensors.*not a valid safetensors"):
        va.load_run(run_copy)


def test_wrong_shape_tensor_is_named(run_copy):
    tensors = load_tensors(run_copy / "model.safetensors")[0]
    name = "encoder.net.1.weight"
    tensors[name] = torch.zeros(5, 5)
    save_file(tensors, str(run_copy / "model.safetensors"))
    with pytest.raises(RunFileError, match=rf"{name}.*shape \(5, 5\)"):
        va.load_run(run_copy)


def test_wrong_dtype_tensor_is_named(run_copy):
    tensors = load_tensors(run_copy / "model.safetensors")[0]
    name = "encoder.net.1.weight"
    tensors[name] = tensors[name].double()
    save_file(tensors, str(run_copy / "model.safetensors"))
    with pytest.raises(RunFileError, match=rf"{name}.*dtype"):
        va.load_run(run_copy)


def test_nan_weights_are_refused(run_copy):
    tensors = load_tensors(run_copy / "model.safetensors")[0]
    tensors["encoder.net.1.bias"][0] = float("nan")
    save_file(tensors, str(run_copy / "model.safetensors"))
    with pytest.raises(RunFileError, match="NaN"):
        va.load_run(run_copy)


def test_pickle_file_is_never_executed(run_copy, tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (run_copy / "model.safetensors").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(RunFileError):
        va.load_run(run_copy)
    assert not marker.exists()
