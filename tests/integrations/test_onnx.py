"""``export onnx``: encoder and decoder graphs that onnxruntime runs to the PyTorch model's
numbers, at batch sizes other than the one they were traced at."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import Dataset, ImageSet
from vae_atlas.training import train

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def conv_run(out, objective):
    """A 28x28 conv run trained one epoch on noise (only the graphs matter here)."""
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (96, 1, 28, 28), generator=g, dtype=torch.uint8)
    data = Dataset(name="mnist", train=ImageSet(images[:64]), test=ImageSet(images[64:]))
    config = RunConfig(
        data=DataConfig(name="mnist", data_dir=str(out.parent / "nowhere"), val_size=0),
        model=ModelConfig(
            family="conv", image_shape=(1, 28, 28), latent_dim=3, hidden=(4, 8), objective=objective
        ),
        train=TrainConfig(epochs=1, batch_size=32, probe_size=8, device="cpu"),
    )
    train(config, out, dataset=data, progress=False, log=lambda _: None)
    return out


def mlp_run(out, objective):
    args = ["train", "--dataset", "digits", "--latent-dim", "2", "--hidden", "16", "--epochs"]
    assert main([*args, "1", "--objective", objective, "--out", str(out), "--quiet"]) == 0
    return out


def printed_max_diffs(text):
    return [float(x) for x in re.findall(r"(?:mu|logvar|image) ([0-9.e+-]+)", text)]


@pytest.mark.parametrize(
    ("make", "objective", "source"),
    [
        (mlp_run, "vae", "test images"),
        (mlp_run, "ae", "test images"),
        (conv_run, "vae", "random images"),
    ],
)
def test_exported_graphs_match_the_model(tmp_path, capsys, make, objective, source):
    run_dir = make(tmp_path / "run", objective)
    capsys.readouterr()
    out = tmp_path / "onnx"
    assert main(["export", "onnx", str(run_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"on 64 {source}" in printed
    diffs = printed_max_diffs(printed)
    assert len(diffs) == (3 if objective == "vae" else 2)
    assert max(diffs) < 1e-4
    model = va.load_run(run_dir).model
    shape = model.image_shape
    encoder = ort.InferenceSession(str(out / "encoder.onnx"))
    decoder = ort.InferenceSession(str(out / "decoder.onnx"))
    names = [o.name for o in encoder.get_outputs()]
    assert names == (["mu", "logvar"] if objective == "vae" else ["mu"])
    for batch in (1, 5):
        x = torch.rand(batch, *shape, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            mu, logvar = model.encode(x)
            image = model.decode(mu)
        got = encoder.run(None, {"image": x.numpy()})
        assert np.abs(got[0] - mu.numpy()).max() < 1e-4
        if logvar is not None:
            assert np.abs(got[1] - logvar.numpy()).max() < 1e-4
        [decoded] = decoder.run(None, {"z": mu.numpy()})
        assert decoded.shape == (batch, *shape)
        assert np.abs(decoded - image.numpy()).max() < 1e-4


def test_missing_onnx_is_one_line(tmp_path, capsys, monkeypatch):
    run_dir = mlp_run(tmp_path / "run", "vae")
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert main(["export", "onnx", str(run_dir)]) == 1
    assert capsys.readouterr().err == (
        "error: export onnx needs the onnxruntime package: pip install 'vae-atlas[onnx]'\n"
    )
    assert not (run_dir / "onnx").exists()


def test_an_opset_the_exporter_does_not_write_is_refused(tmp_path, capsys):
    run_dir = mlp_run(tmp_path / "run", "vae")
    capsys.readouterr()
    assert main(["export", "onnx", str(run_dir), "--opset", "17"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --opset 17: the exporter writes opsets 18 to ")
    assert err.count("\n") == 1
    assert not (run_dir / "onnx").exists()


class Untraceable(torch.nn.Module):
    """Encodes fine; its decoder branches on the values of its input, which a graph with a
    dynamic batch cannot hold."""

    latent_dim, stochastic = 2, False

    def __init__(self) -> None:
        super().__init__()
        self.enc = torch.nn.Linear(16, 2)

    def encode(self, x):
        return self.enc(x.flatten(1)), None

    def decode(self, z):
        image = torch.sigmoid(z).repeat(1, 8).reshape(-1, 1, 4, 4)
        return image if float(z.sum()) > 0 else 1 - image


def test_a_model_that_cannot_be_exported_leaves_the_old_export(tmp_path):
    from vae_atlas.integrations.onnx import OnnxExportError, export_onnx

    out = tmp_path / "onnx"
    out.mkdir()
    (out / "encoder.onnx").write_bytes(b"earlier export")
    with pytest.raises(OnnxExportError, match="torch.onnx.export failed on this model: "):
        export_onnx(Untraceable(), out, torch.rand(4, 1, 4, 4))
    assert sorted(p.name for p in out.iterdir()) == ["encoder.onnx"]
    assert (out / "encoder.onnx").read_bytes() == b"earlier export"


def test_a_cvae_exports_graphs_that_take_the_class_as_a_second_input(tmp_path, capsys):
    run_dir = mlp_run(tmp_path / "run", "cvae")
    capsys.readouterr()
    out = tmp_path / "onnx"
    assert main(["export", "onnx", str(run_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "on 64 test images" in printed and max(printed_max_diffs(printed)) < 1e-4
    model = va.load_run(run_dir).model
    encoder = ort.InferenceSession(str(out / "encoder.onnx"))
    decoder = ort.InferenceSession(str(out / "decoder.onnx"))
    assert [i.name for i in encoder.get_inputs()] == ["image", "y"]
    assert [i.name for i in decoder.get_inputs()] == ["z", "y"]
    for batch in (1, 5):
        g = torch.Generator().manual_seed(batch)
        x = torch.rand(batch, 1, 8, 8, generator=g)
        y = torch.randint(0, 10, (batch,), generator=g)
        with torch.no_grad():
            mu, logvar = model.encode(x, y)
            image = model.decode(mu, y)
            other = model.decode(mu, (y + 1) % 10)
        got_mu, got_logvar = encoder.run(None, {"image": x.numpy(), "y": y.numpy()})
        assert np.abs(got_mu - mu.numpy()).max() < 1e-4
        assert np.abs(got_logvar - logvar.numpy()).max() < 1e-4
        [decoded] = decoder.run(None, {"z": mu.numpy(), "y": y.numpy()})
        assert np.abs(decoded - image.numpy()).max() < 1e-4
        assert np.abs(decoded - other.numpy()).max() > 1e-3  # the class is read, not ignored
