"""fp16's loss scaler is part of the checkpoint: its scale and growth count come back on resume
(a fresh scaler would start again at 65536 and skip other steps than the uninterrupted run)."""

from __future__ import annotations

import pytest
import torch

from vae_atlas.checkpoint import RunFileError, load_tensors, save_tensors
from vae_atlas.config import ModelConfig
from vae_atlas.models import build_model
from vae_atlas.training.state import LoopPosition, load_checkpoint, save_checkpoint


def parts() -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.Generator]:
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    return model, torch.optim.Adam(model.parameters()), torch.Generator().manual_seed(0)


def saved_with(tmp_path, scaler: torch.amp.GradScaler | None) -> None:
    model, opt, gen = parts()
    save_checkpoint(tmp_path, model, opt, gen, LoopPosition(epoch=1, step=3), scaler=scaler)


def reload(tmp_path) -> torch.amp.GradScaler:
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    model, opt, gen = parts()
    load_checkpoint(tmp_path, model, opt, gen, n_train=192, batch_size=64, scaler=scaler)
    return scaler


def test_scale_and_growth_count_come_back(tmp_path):
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    scaler.load_state_dict({**scaler.state_dict(), "scale": 1024.0, "_growth_tracker": 7})
    saved_with(tmp_path, scaler)
    back = reload(tmp_path)
    assert back.get_scale() == 1024.0
    assert back.state_dict()["_growth_tracker"] == 7


def test_a_run_without_a_scaler_leaves_a_new_one_at_its_start(tmp_path):
    saved_with(tmp_path, None)
    back = reload(tmp_path)
    assert back.get_scale() == 65536.0  # GradScaler's documented initial scale, 2**16
    assert back.state_dict()["_growth_tracker"] == 0


@pytest.mark.parametrize(
    "bad", [{"scale": -1.0, "growth_tracker": 0}, {"scale": 8.0, "growth_tracker": -2}, "x"]
)
def test_a_damaged_scaler_field_is_named(tmp_path, bad):
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    saved_with(tmp_path, scaler)
    path = tmp_path / "checkpoint.safetensors"
    tensors, meta = load_tensors(path)
    save_tensors(path, tensors, {**meta, "scaler": bad})
    with pytest.raises(RunFileError, match=r"checkpoint.safetensors: metadata field 'scaler'"):
        reload(tmp_path)
