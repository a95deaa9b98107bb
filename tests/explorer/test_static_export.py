"""`explore --export DIR` without a browser: where it may write, which decoders travel as weights
and what it says about the others, what data.js holds, and how big it gets."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig
from vae_atlas.data import load_dataset, load_digits
from vae_atlas.explorer import ExplorerRun
from vae_atlas.explorer.static_export import export_static
from vae_atlas.models import build_model

from ..tiny_runs import train_quietly
from .conftest import conv_explorer_run, tiny_config


def read_data(folder: Path) -> dict:
    text = (folder / "data.js").read_text()
    prefix = "window.VAE_ATLAS_DATA = "
    assert text.startswith(prefix) and text.rstrip().endswith(";")
    return json.loads(text[len(prefix) :].rstrip().rstrip(";"))


def test_export_holds_the_points_and_the_decoder(vae2, tmp_path: Path) -> None:
    run = ExplorerRun.from_run(vae2, run_id="v")
    done = export_static([run], tmp_path / "site")
    assert set(done.sizes) == {"index.html", "explorer.js", "data.js"} and not done.not_decoded
    data = read_data(tmp_path / "site")["runs"]["v"]
    mu = np.frombuffer(base64.b64decode(data["mu"]), dtype="<f4").reshape(-1, 2)
    n = len(vae2.dataset.test)
    assert mu.shape == (n, 2) and data["labels"] == vae2.dataset.test.labels.tolist()
    assert data["detail"]["projections"] == ["latent"]
    assert data["decoder"]["manifest"]["layers"][0]["n_in"] == 2


def test_export_refuses_a_folder_holding_anything_else(vae2, tmp_path: Path, capsys) -> None:
    before = sorted(p.name for p in vae2.path.iterdir())
    assert main(["explore", str(vae2.path), "--export", str(vae2.path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --export ") and "other files" in err[0]
    assert sorted(p.name for p in vae2.path.iterdir()) == before  # the run is untouched


def test_export_over_an_earlier_export_is_allowed(vae2, tmp_path: Path) -> None:
    run = ExplorerRun.from_run(vae2, run_id="v")
    export_static([run], tmp_path / "site")
    export_static([run], tmp_path / "site")


def sprite_cell(uri: str, cols: int, index: int, size: int) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        sheet = np.asarray(image)
    r, c = divmod(index, cols)
    return sheet[r * size : (r + 1) * size, c * size : (c + 1) * size]


def test_a_conv_decoder_travels_as_weights_and_needs_no_note(tmp_path: Path) -> None:
    done = export_static([conv_explorer_run()], tmp_path / "site")
    assert done.not_decoded == ()
    assert 'id="host-note"' not in (tmp_path / "site" / "index.html").read_text()
    data = read_data(tmp_path / "site")["runs"]["conv3"]
    manifest = data["decoder"]["manifest"]
    assert manifest["kind"] == "conv" and data["recon_sprite"] is None
    assert len(base64.b64decode(data["decoder"]["weights"])) == 4 * manifest["n_floats"]


def test_a_decoder_the_page_cannot_run_is_named_and_its_reconstructions_travel(
    tmp_path: Path,
) -> None:
    run = conv_explorer_run(server_decoded=True)
    done = export_static([run], tmp_path / "site")
    assert done.not_decoded == ("conv3",)
    page = (tmp_path / "site" / "index.html").read_text()
    assert 'id="host-note"' in page and "not decoded in the page: conv3" in page
    data = read_data(tmp_path / "site")["runs"]["conv3"]
    assert data["decoder"] is None
    index = 5  # its reconstruction travels as a picture instead
    cell = sprite_cell(data["recon_sprite"]["uri"], data["recon_sprite"]["cols"], index, 28)
    with torch.no_grad():
        mu = torch.as_tensor(run.latents.mu[index : index + 1], dtype=torch.float32)
        wanted = run.model.decode(mu)[0, 0].numpy()
    assert np.abs(cell / 255 - wanted).max() <= 0.5 / 255 + 1e-6


def test_the_command_names_a_run_the_page_cannot_decode(tmp_path: Path, capsys) -> None:
    torch.set_num_threads(1)
    train_quietly(tiny_config("hvae", 2, epochs=1), tmp_path / "h", load_digits())
    assert main(["explore", str(tmp_path / "h"), "--export", str(tmp_path / "site")]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "not decoded in the page: h " in notes[0]
    assert "hierarchical" in notes[0]


@pytest.mark.mnist
@pytest.mark.slow  # ~25 s: encodes all 10,000 MNIST test images and writes their sprite
def test_a_conv_export_of_10000_mnist_points_stays_under_10_mb(mnist_dir: Path, tmp_path) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build_model(ModelConfig(family="conv", image_shape=(1, 28, 28), latent_dim=20))
    test = load_dataset(DataConfig(name="mnist", data_dir=str(mnist_dir))).test
    assert len(test) == 10_000
    run = ExplorerRun.from_model(model, test, name="mnist-conv")
    done = export_static([run], tmp_path / "site")
    assert done.not_decoded == ()
    assert done.total_bytes < 10_000_000


@pytest.mark.parametrize("flag", ["--max-points=0"])
def test_bad_flags_are_one_line(vae2, tmp_path: Path, capsys, flag: str) -> None:
    assert main(["explore", str(vae2.path), "--export", str(tmp_path / "s"), flag]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --max-points=0 must be >= 1"]


def test_the_command_says_why_a_cvae_is_not_decoded_in_the_page(tmp_path: Path, capsys) -> None:
    torch.set_num_threads(1)
    train = ["train", "--dataset", "digits", "--objective", "cvae", "--latent-dim", "2"]
    tiny = ["--hidden", "16", "--epochs", "1", "--quiet", "--threads", "1"]
    assert main([*train, *tiny, "--out", str(tmp_path / "c")]) == 0
    assert main(["explore", str(tmp_path / "c"), "--export", str(tmp_path / "site")]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert "not decoded in the page: c (a conditional VAE: its decoder reads a class" in notes[0]
    page = (tmp_path / "site" / "index.html").read_text()
    assert "c (a conditional VAE: its decoder reads a class" in page
    data = read_data(tmp_path / "site")["runs"]["c"]
    # the map and the selections' pictures travel; the "decode as" control, which only decodes,
    # does not
    assert data["detail"]["condition"] is None and data["recon_sprite"] is not None
    assert len(base64.b64decode(data["maps"]["latent"]["xy"])) == 8 * data["n_points"]
