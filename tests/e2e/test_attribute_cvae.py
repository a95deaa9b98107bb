"""An attribute cvae from the command line on the procedural CelebA-format faces (tiny MLP runs):
config.json records the condition, resume is bit-identical, a bad attribute name or a
condition size that does not match the weights is one error line, and ``evaluate`` and
``report`` use each image's own attributes."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from vae_atlas import load_run
from vae_atlas.analysis.evaluation import evaluate_run
from vae_atlas.checkpoint import RunFileError, load_tensors
from vae_atlas.cli import main
from vae_atlas.data.procedural_faces import write_celeba_fixture
from vae_atlas.report import build_report
from vae_atlas.training.data_access import DataAccess

TINY = [
    "--objective", "cvae", "--condition-attributes", "Smiling,Male,Eyeglasses",
    "--image-size", "16", "--hidden", "32", "--latent-dim", "2", "--batch-size", "16",
    "--probe-size", "8", "--no-verify", "--quiet", "--threads", "1",
    # a constant rate: extending a run by --resume --epochs then follows the same schedule
    "--lr-final-fraction", "1",
]  # fmt: skip


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory):
    return write_celeba_fixture(
        tmp_path_factory.mktemp("faces"), n_images=160, seed=4
    )  # 128 train, 16 valid, 16 test


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("cache")
        mp.setenv("VAE_ATLAS_DATA", str(folder))
        yield folder


def train_args(faces, out, epochs: int) -> list[str]:
    data = ["train", "--dataset", "celeba", "--data-dir", str(faces)]
    return [*data, *TINY, "--epochs", str(epochs), "--out", str(out)]


@pytest.fixture(scope="module")
def attr_run(faces, cache, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("runs") / "full"
    assert main(train_args(faces, out, 2)) == 0
    return out


def test_config_json_records_the_condition(attr_run) -> None:
    model = json.loads((attr_run / "config.json").read_text())["model"]
    assert model["condition"] == "attributes"
    assert model["condition_attributes"] == ["Smiling", "Male", "Eyeglasses"]
    assert model["n_classes"] == 0


def test_resume_is_bit_identical(faces, cache, attr_run, tmp_path) -> None:
    part = tmp_path / "part"
    assert main(train_args(faces, part, 1)) == 0
    resume = ["train", "--resume", "--out", str(part), "--epochs", "2", "--no-verify", "--quiet"]
    assert main([*resume, "--threads", "1"]) == 0
    full = load_tensors(attr_run / "model.safetensors")[0]
    again = load_tensors(part / "model.safetensors")[0]
    assert set(full) == set(again) and "condition_binary" in full
    for name in full:
        assert torch.equal(full[name], again[name]), name


def test_an_unknown_attribute_is_one_line_naming_it(faces, cache, tmp_path, capsys) -> None:
    args = train_args(faces, tmp_path / "bad", 1)
    args[args.index("Smiling,Male,Eyeglasses")] = "Smiling,Smilng"
    assert main(args) == 1
    line = one_error(capsys)
    assert "--condition-attributes" in line and "'Smilng' is not an attribute" in line
    assert "Eyeglasses" in line and "Wearing_Hat" in line  # the valid names
    assert not (tmp_path / "bad").exists()


def test_attributes_asked_of_digits_is_one_line(tmp_path, capsys) -> None:
    args = ["train", "--dataset", "digits", "--objective", "cvae", "--condition", "attributes"]
    assert main([*args, "--epochs", "1", "--quiet", "--out", str(tmp_path / "d")]) == 1
    assert "has no attribute table" in one_error(capsys)


def test_a_condition_size_mismatch_on_load_is_refused_by_name(attr_run, tmp_path, capsys):
    edited = tmp_path / "edited"
    shutil.copytree(attr_run, edited)
    config = json.loads((edited / "config.json").read_text())
    config["model"]["condition_attributes"] = ["Smiling", "Male"]
    (edited / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunFileError, match=r"'condition_binary' has shape \(3,\), .* needs \(2,\)"):
        load_run(edited)
    assert main(["evaluate", str(edited), "--quick", "--no-verify"]) == 1
    assert "condition_binary" in one_error(capsys)


def test_evaluate_scores_each_image_under_its_own_attributes(attr_run, cache) -> None:
    run = load_run(attr_run, data=DataAccess(verify=False))
    result = evaluate_run(run, quick=True)
    # the training loop scored the same test faces under their attributes with other noise
    assert result.neg_elbo == pytest.approx(run.metrics[-1]["test_neg_elbo"], rel=0.05)
    assert any("own attributes" in note for note in result.notes)
    assert result.iwae_nll is None and result.smoothness is None


def test_the_report_flips_attributes_and_says_what_it_skips(attr_run, cache, tmp_path) -> None:
    run = load_run(attr_run, data=DataAccess(verify=False))
    index = build_report(run, tmp_path / "report")
    files = {p.name for p in (tmp_path / "report").glob("*.png")}
    assert {"attribute-flips.png", "attribute-samples.png", "condition-scatter.png"} <= files
    assert not {"every-class.png", "class-samples.png", "samples.png"} & files
    page = index.read_text()
    assert "an attribute cvae decodes a code only under its attributes" in page
    assert "an attribute cvae has no classes" in page
