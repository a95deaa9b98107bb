"""Reports, evaluations and the explorer on a VQ-VAE and a cvae (tiny digits runs): their own
figures are drawn, the figures that do not apply are named with a reason, the numbers are right,
and the explorer decodes a cvae's point under its own class or refuses a VQ-VAE in one line."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

import vae_atlas as va
from vae_atlas.analysis.evaluation import evaluate_run
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.explorer import ExplorerRun
from vae_atlas.report import build_report

from ..tiny_runs import train_quietly


def run_config(model: ModelConfig) -> RunConfig:
    return RunConfig(
        data=DataConfig(name="digits"),
        model=model,
        train=TrainConfig(epochs=2, batch_size=64, probe_size=20, device="cpu"),
    )


@pytest.fixture(scope="module")
def vq_run(tmp_path_factory):
    model = ModelConfig(
        objective="vq-vae", family="conv", image_shape=(1, 8, 8), latent_dim=4, hidden=(8, 16),
        codebook_size=16,
    )  # fmt: skip
    return train_quietly(run_config(model), tmp_path_factory.mktemp("vq") / "run")


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory):
    model = ModelConfig(
        objective="cvae", image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), n_classes=10
    )
    return train_quietly(run_config(model), tmp_path_factory.mktemp("cvae") / "run")


def test_vq_report_draws_the_codebook_and_says_why_the_rest_is_missing(vq_run, tmp_path):
    index = build_report(vq_run, tmp_path / "report")
    files = {p.name for p in (tmp_path / "report").glob("*.png")}
    for name in ("codebook-usage", "code-maps", "codebook-entries", "code-neighbours"):
        assert f"{name}.png" in files
    assert not {"scatter.png", "clouds.png", "samples.png", "traversals.png"} & files
    page = index.read_text()
    for figure in ("Posterior clouds", "KL per dimension", "Prior samples", "Traversals"):
        assert f"{figure}: not drawn (" in page or f"{figure} and" in page, figure
    assert "IWAE" in page and "codebook perplexity" in page


def test_vq_report_asked_for_cloud_dimensions_is_one_error_line(vq_run, tmp_path, capsys):
    assert main(["report", str(vq_run), "--out", str(tmp_path / "r"), "--dims", "1", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "VQ-VAE" in err[0]


def test_vq_evaluate_reports_usage_by_hand_and_names_what_does_not_apply(vq_run):
    run = va.load_run(vq_run)
    result = evaluate_run(run, quick=True)
    assert result.objective == "vq-vae"
    assert result.neg_elbo is None and result.iwae_nll is None and result.recon_nll is not None
    # the perplexity of the test codes, recomputed here: exp(−Σ p log p) over code counts
    x = run.dataset.test.images.float() / 255.0
    with torch.no_grad():
        codes = run.model.eval().codes(x).flatten().numpy()
    # quick evaluation scores at most 1,000 test images; digits has 360
    p = np.bincount(codes, minlength=16) / codes.size
    expected = math.exp(-sum(q * math.log(q) for q in p if q > 0))
    assert result.codebook["perplexity"] == pytest.approx(expected)
    assert result.codebook["codes_used"] == int((p > 0).sum())
    assert any("vq-vae" in note and "not a Gaussian" in note for note in result.notes)
    assert any("no ELBO or IWAE" in note for note in result.notes)


def _no_constant(name: str) -> None:
    raise AssertionError(f"evaluation.json holds {name}, which strict JSON parsers refuse")


def test_vq_evaluate_file_is_strict_json_and_prints_no_nan(vq_run, tmp_path, capsys):
    # this tiny VQ-VAE gives every test image the same code map, so no interpolation path
    # changes its image and the path / chord ratio has no pair to take a median over
    run = tmp_path / "run"
    shutil.copytree(vq_run, run)
    assert main(["evaluate", str(run), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower(), out
    data = json.loads((run / "evaluation.json").read_text(), parse_constant=_no_constant)
    smoothness = data["smoothness"]
    assert smoothness is None or smoothness >= 1.0
    if smoothness is None:
        assert "every sampled pair of test codes decodes to the same image" in out


def test_cvae_report_draws_every_class_and_per_class_samples(cvae_run, tmp_path):
    index = build_report(cvae_run, tmp_path / "report")
    files = {p.name for p in (tmp_path / "report").glob("*.png")}
    assert {"every-class.png", "class-samples.png", "scatter.png", "clouds.png"} <= files
    assert "samples.png" not in files
    page = index.read_text()
    assert "Prior samples: not drawn (a cvae decodes a code only under a class" in page


def test_the_explorer_decodes_a_cvae_point_under_its_own_class(cvae_run):
    run = va.load_run(cvae_run)
    explorer = ExplorerRun.from_run(run, max_points=50)
    x = run.dataset.test.images[:50].float() / 255.0
    y = run.dataset.test.labels[:50]
    with torch.no_grad():
        mu, _ = run.model.encode(x, y)
        own = run.model.decode(mu[:5], y[:5]).numpy()
        other = run.model.decode(mu[:5], (y[:5] + 1) % 10).numpy()
    decoded = explorer.decode(mu[:5].numpy())
    assert np.allclose(decoded, own, atol=1e-5)
    chosen = explorer.decode(mu[:5].numpy(), classes=((y[:5] + 1) % 10).numpy())
    assert np.allclose(chosen, other, atol=1e-5) and not np.allclose(chosen, own, atol=1e-3)


def test_the_explorer_refuses_a_vq_vae_in_one_line(vq_run, capsys):
    assert main(["explore", str(vq_run), "--port", "0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "VQ-VAE" in err[0]


def test_cvae_evaluate_scores_each_image_under_its_own_class(cvae_run):
    run = va.load_run(cvae_run)
    result = evaluate_run(run, quick=True)
    assert result.objective == "cvae" and result.iwae_nll is None
    # the training loop scored the same test images under their labels with other noise
    assert result.neg_elbo == pytest.approx(run.metrics[-1]["test_neg_elbo"], rel=0.05)
    assert result.knn_accuracy is not None and result.smoothness is None
    assert any("own class" in note for note in result.notes)


def test_compare_refuses_a_vq_vae_or_a_cvae_in_one_line(vq_run, cvae_run, tmp_path, capsys):
    for run, named in ((vq_run, "VQ-VAE"), (cvae_run, "cvae")):
        assert main(["compare", str(run), str(run), "--out", str(tmp_path / "cmp")]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and named in err[0]
