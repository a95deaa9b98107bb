"""Faces end to end, with real (tiny) training on the procedural CelebA-format fixture: the
reader behind ``--dataset celeba``, an image folder with ``--attributes``, and the attributes
reaching ``report``, ``evaluate`` and the explorer without extra flags."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from vae_atlas import load_run
from vae_atlas.cli import main
from vae_atlas.data.procedural_faces import write_celeba_fixture
from vae_atlas.explorer import create_app
from vae_atlas.training.data_access import DataAccess

from ..explorer.conftest import local_client

# two tiny trainings and three reports: about a minute on an idle core, minutes on a busy one
pytestmark = pytest.mark.slow

TINY = [
    "--image-size", "32", "--family", "conv", "--hidden", "8,16,32", "--latent-dim", "4",
    "--epochs", "1", "--batch-size", "32", "--probe-size", "10", "--quiet", "--threads", "1",
]  # fmt: skip
N_IMAGES = 160  # partition: 128 train, 16 valid, 16 test


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory):
    return write_celeba_fixture(tmp_path_factory.mktemp("faces"), n_images=N_IMAGES, seed=5)


@pytest.fixture(scope="module")
def celeba_run(faces, tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VAE_ATLAS_DATA", str(cache))
        out = tmp_path_factory.mktemp("runs") / "celeba"
        args = ["train", "--dataset", "celeba", "--data-dir", str(faces), "--no-verify"]
        assert main([*args, *TINY, "--out", str(out)]) == 0
        yield out


def _attr_column(faces, name: str) -> dict[str, int]:
    lines = (faces / "list_attr_celeba.txt").read_text().splitlines()
    at = lines[1].split().index(name)
    return {row.split()[0]: int(row.split()[1 + at]) for row in lines[2:]}


def test_celeba_without_no_verify_is_one_checksum_line(faces, tmp_path, capsys) -> None:
    args = ["train", "--dataset", "celeba", "--data-dir", str(faces), *TINY]
    assert main([*args, "--out", str(tmp_path / "r")]) == 1
    assert "checksum mismatch" in one_error(capsys)
    assert not (tmp_path / "r" / "model.safetensors").exists()


def test_report_draws_attribute_figures_without_flags(celeba_run, capsys) -> None:
    args = ["report", str(celeba_run), "--no-verify", "--projection", "pca", "--no-gif"]
    assert main([*args, "--attribute", "Smiling", "Eyeglasses"]) == 0
    report = celeba_run / "report"
    for name in ("smiling", "eyeglasses", "table", "scatter", "arithmetic"):
        assert (report / f"attribute-{name}.png").stat().st_size > 1000
    assert not (report / "attribute-bangs.png").exists()  # only the attributes asked for
    page = (report / "index.html").read_text()
    assert "Direction: Smiling" in page and "Which dimensions carry each attribute" in page
    capsys.readouterr()
    assert main([*args, "--attribute", "Smiling", "Dimples"]) == 1
    assert "attribute 'Dimples' is not one of" in one_error(capsys)


def test_evaluate_writes_attribute_probes(celeba_run, capsys) -> None:
    assert main(["evaluate", str(celeba_run), "--quick", "--no-verify"]) == 0
    printed = capsys.readouterr().out
    assert "attribute probe: Smiling" in printed
    probes = json.loads((celeba_run / "evaluation.json").read_text())["attributes"]
    assert len(probes) == 40
    smiling = probes["Smiling"]
    assert smiling["kind"] == "binary" and 0.0 <= smiling["probe_accuracy"] <= 1.0
    assert 0.5 <= smiling["majority_accuracy"] <= 1.0  # of the 16 test faces


def test_explorer_serves_attributes_and_directions(celeba_run, faces) -> None:
    run = load_run(celeba_run, data=DataAccess(verify=False))
    client = local_client(create_app([run]))
    summary = client.get(f"/api/runs/{run.name}/attributes").json()
    rows = {row["name"]: row for row in summary["attributes"]}
    assert len(rows) == 40 and rows["Smiling"]["index"] in summary["sliders"]
    # the direction is the mean test code with Smiling minus the mean without it
    test = run.dataset.test
    with torch.no_grad():
        mu = run.model.encode(test.float_images())[0].numpy()
    smiling = test.attributes[:, rows["Smiling"]["index"]].numpy() > 0.5
    expected = mu[smiling].mean(0) - mu[~smiling].mean(0)
    np.testing.assert_allclose(rows["Smiling"]["direction"], expected, atol=1e-4)
    values = client.get(f"/api/runs/{run.name}/attributes/{rows['Smiling']['index']}").json()
    column = _attr_column(faces, "Smiling")
    names = [ln.split()[0] for ln in (faces / "list_eval_partition.txt").read_text().splitlines()]
    test_names = [n for n in names if n >= f"{N_IMAGES - 15:06d}.jpg"]  # the last 16 are test
    assert values["values"] == [float(column[n] > 0) for n in test_names]
    assert client.get(f"/api/runs/{run.name}/attributes/99").status_code == 404


def _faces_folder(faces, tmp_path):
    """The fixture's images as a plain image folder with a CSV keyed by file name."""
    folder = tmp_path / "imgs"
    shutil.copytree(faces / "img_align_celeba", folder)
    smile, glasses = _attr_column(faces, "Smiling"), _attr_column(faces, "Eyeglasses")
    rows = [f"{n},{smile[n] > 0},{glasses[n]}" for n in sorted(smile)]
    table = tmp_path / "faces.csv"
    table.write_text("filename,smile,glasses\n" + "\n".join(rows) + "\n")
    return folder, table


def test_folder_attributes_travel_with_the_run(faces, tmp_path, capsys) -> None:
    folder, table = _faces_folder(faces, tmp_path)
    out = tmp_path / "run"
    args = ["train", "--dataset", "folder", "--data-dir", str(folder), "--channels", "3"]
    assert main([*args, "--attributes", str(table), *TINY, "--out", str(out)]) == 0
    data = json.loads((out / "config.json").read_text())["data"]
    assert data["attributes"] == str(table.resolve()) and len(data["attributes_sha256"]) == 64
    assert main(["report", str(out), "--projection", "pca", "--no-gif"]) == 0
    assert (out / "report" / "attribute-smile.png").exists()
    assert (out / "report" / "attribute-glasses.png").exists()
    table.write_text(table.read_text().replace(",True,", ",False,", 1))
    capsys.readouterr()
    assert main(["report", str(out), "--projection", "pca", "--no-gif"]) == 1
    assert "the attribute table changed since the run was made" in one_error(capsys)


def test_missing_attribute_file_is_one_line(faces, tmp_path, capsys) -> None:
    folder, _ = _faces_folder(faces, tmp_path)
    args = ["train", "--dataset", "folder", "--data-dir", str(folder), *TINY]
    assert (
        main([*args, "--attributes", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r")]) == 1
    )
    assert "--attributes" in one_error(capsys) and not (tmp_path / "r").exists()


def test_explorer_attributes_of_a_run_without_any(tmp_path) -> None:
    from vae_atlas.data import load_digits
    from vae_atlas.training import train

    from ..tiny_runs import tiny_config

    train(tiny_config(epochs=1), tmp_path / "d", dataset=load_digits(), progress=False, log=print)
    client = local_client(create_app([load_run(tmp_path / "d")]))
    assert client.get("/api/runs/d/attributes").json() == {"attributes": [], "sliders": []}
    assert client.get("/api/runs/d/attributes/0").status_code == 404
