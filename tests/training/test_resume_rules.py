"""--resume never silently loses a run: a missing checkpoint is refused unless the user asks to
start over, fewer epochs than done are refused, and a refused resume leaves config.json as it
was."""

from __future__ import annotations

import pytest

from tests.conftest import make_blobs_dataset
from vae_atlas.checkpoint import RunFileError, read_metrics
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.training import TrainingError, train


def tiny(epochs: int) -> RunConfig:
    return RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(8,)),
        train=TrainConfig(epochs=epochs, batch_size=64, probe_size=10),
    )


@pytest.fixture
def run2(tmp_path):
    out = tmp_path / "run"
    train(tiny(2), out, dataset=make_blobs_dataset(), progress=False)
    return out


def test_missing_checkpoint_is_refused_naming_the_file(run2):
    (run2 / "checkpoint.safetensors").unlink()
    weights = (run2 / "model.safetensors").read_bytes()
    with pytest.raises(TrainingError, match=r"checkpoint\.safetensors.*--restart"):
        train(tiny(3), run2, dataset=make_blobs_dataset(), progress=False, resume=True)
    assert (run2 / "model.safetensors").read_bytes() == weights
    assert RunConfig.from_json((run2 / "config.json").read_text()).train.epochs == 2


def test_restart_trains_again_from_epoch_zero(run2):
    (run2 / "checkpoint.safetensors").unlink()
    result = train(
        tiny(2), run2, dataset=make_blobs_dataset(), progress=False, resume=True, restart=True
    )
    assert result.status == "complete"
    assert [r["epoch"] for r in read_metrics(run2 / "metrics.jsonl")] == [0, 1, 2]


def test_restart_with_a_checkpoint_is_refused(run2):
    with pytest.raises(TrainingError, match="--restart"):
        train(
            tiny(2), run2, dataset=make_blobs_dataset(), progress=False, resume=True, restart=True
        )


def test_fewer_epochs_than_done_are_refused_and_nothing_changes(run2, capsys):
    config = (run2 / "config.json").read_bytes()
    assert main(["train", "--resume", "--epochs", "1", "--no-progress", "--out", str(run2)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--epochs 1" in err and "2 epochs" in err, err
    assert (run2 / "config.json").read_bytes() == config


def test_cli_missing_checkpoint_is_one_line(run2, capsys):
    (run2 / "checkpoint.safetensors").unlink()
    assert main(["train", "--resume", "--no-progress", "--out", str(run2)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "checkpoint.safetensors" in err and "--restart" in err


def test_a_refused_checkpoint_leaves_config_json_as_it_was(run2):
    config = (run2 / "config.json").read_bytes()
    (run2 / "checkpoint.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(RunFileError, match=r"checkpoint\.safetensors"):
        train(tiny(5), run2, dataset=make_blobs_dataset(), progress=False, resume=True)
    assert (run2 / "config.json").read_bytes() == config


def test_restart_without_resume_is_refused(tmp_path, capsys):
    argv = ["train", "--restart", "--hidden", "8", "--epochs", "1", "--out", str(tmp_path / "r")]
    assert main([*argv, "--no-progress"]) == 1
    assert "--restart" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
