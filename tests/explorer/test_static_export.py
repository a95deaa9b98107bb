"""`explore --export DIR` without a browser: where it may write, what it says about conv
decoders, and what data.js holds."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_atlas.cli import main
from vae_atlas.explorer import ExplorerRun
from vae_atlas.explorer.static_export import export_static

from .conftest import conv_explorer_run


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


def test_conv_decoders_are_said_not_to_be_decoded_in_the_page(tmp_path: Path) -> None:
    run = conv_explorer_run()
    done = export_static([run], tmp_path / "site")
    assert done.not_decoded == ("conv3",)
    page = (tmp_path / "site" / "index.html").read_text()
    assert "conv decoders are not decoded in the static page" in page
    data = read_data(tmp_path / "site")["runs"]["conv3"]
    assert data["decoder"] is None
    index = 5  # its reconstruction travels as a picture instead
    cell = sprite_cell(data["recon_sprite"]["uri"], data["recon_sprite"]["cols"], index, 28)
    with torch.no_grad():
        mu = torch.as_tensor(run.latents.mu[index : index + 1], dtype=torch.float32)
        wanted = run.model.decode(mu)[0, 0].numpy()
    assert np.abs(cell / 255 - wanted).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("flag", ["--max-points=0"])
def test_bad_flags_are_one_line(vae2, tmp_path: Path, capsys, flag: str) -> None:
    assert main(["explore", str(vae2.path), "--export", str(tmp_path / "s"), flag]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --max-points=0 must be >= 1"]
