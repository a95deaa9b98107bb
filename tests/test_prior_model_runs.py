"""VampPrior and hierarchical runs end to end on the bundled digits: bit-identical resume, the
report, ``evaluate`` and the explorer's API, each using the model's own prior."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import vae_atlas as va
from vae_atlas.analysis.evaluation import evaluate_run
from vae_atlas.cli import main
from vae_atlas.config import DataConfig
from vae_atlas.explorer import create_app
from vae_atlas.models import HierarchicalVAE, VampPriorVAE
from vae_atlas.report import build_report
from vae_atlas.report.options import ReportOptions
from vae_atlas.training import train

from .explorer.conftest import local_client
from .tiny_runs import assert_same_weights, tiny_config, weights


def config(objective: str, epochs: int = 4):
    cfg = tiny_config(objective, 2, hidden=(32,), epochs=epochs, lr_final_fraction=1.0,
                      warmup_epochs=1)  # fmt: skip
    model = replace(cfg.model, pseudo_inputs=12, lower_latent_dim=4)
    return replace(cfg, model=model)


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return va.load_dataset(DataConfig(name="digits"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, digits) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("prior-runs")
    for objective in ("vamp", "hvae"):
        train(config(objective), root / objective, dataset=digits, progress=False)
    return {o: root / o for o in ("vamp", "hvae")}


@pytest.mark.parametrize("objective", ["vamp", "hvae"])
def test_resume_is_bit_identical(tmp_path, runs, digits, objective):
    cfg = config(objective)
    short = replace(cfg, train=replace(cfg.train, epochs=2))
    train(short, tmp_path / "part", dataset=digits, progress=False)
    train(cfg, tmp_path / "part", dataset=digits, progress=False, resume=True)
    if objective == "vamp":  # the pseudo-inputs are saved
        assert weights(runs[objective])["pseudo_inputs"].shape == (12, 1, 8, 8)
    assert_same_weights(runs[objective], tmp_path / "part")


def test_pseudo_inputs_start_as_training_images(tmp_path, digits):
    """Before any step the pseudo-inputs are 12 distinct training images (a digit is one of
    the 17 grey levels 0..16 per pixel)."""
    stopped = train(config("vamp", epochs=1), tmp_path / "r", dataset=digits, progress=False,
                    should_stop=lambda rows: True)  # fmt: skip
    assert stopped.status in ("complete", "stopped")
    run = va.load_run(tmp_path / "r")
    assert isinstance(run.model, VampPriorVAE)
    u = run.model.pseudo_inputs.detach().clamp(0, 1).flatten(1)  # (12, 64)
    train_x = digits.train.images.flatten(1).float() / 255.0
    # each pseudo-input is within a training step or two of a training image, not noise
    nearest = torch.cdist(u, train_x).min(1).values
    noise_distance = torch.cdist(torch.full((1, 64), 0.5), train_x).min()
    assert float(nearest.max()) < 0.5 * float(noise_distance)


REPORT_SAYS = {
    "vamp": (
        "drawn from the learned VampPrior (12 pseudo-inputs)",
        "contours of the learned VampPrior",
    ),
    "hvae": ("latent level shown", "the top level z2 (2-D; decoded through the mean of p(z1|z2))"),
}


@pytest.mark.parametrize("objective", ["vamp", "hvae"])
def test_report_uses_the_models_prior_and_names_the_level(runs, objective):
    quick = ReportOptions(gifs=False, max_points=150, grid_size=5, n_clouds=10, dpi=50)
    html = build_report(runs[objective], options=quick).read_text()
    for phrase in REPORT_SAYS[objective]:
        assert phrase in html
    assert (runs[objective] / "report" / "samples.png").stat().st_size > 1000


@pytest.mark.parametrize("objective", ["vamp", "hvae"])
def test_evaluate_bounds_are_ordered(runs, objective):
    result = evaluate_run(va.load_run(runs[objective]), quick=True)
    assert math.isfinite(result.neg_elbo) and math.isfinite(result.iwae_nll)
    # −log p̂_k is below −ELBO (up to noise), and both above 0 nats for 64 grey-level pixels
    assert 0 < result.iwae_nll < result.neg_elbo + 0.1


def test_explorer_samples_the_models_prior_and_shows_the_lower_level(runs):
    vamp, hvae = va.load_run(runs["vamp"]), va.load_run(runs["hvae"])
    assert isinstance(hvae.model, HierarchicalVAE)
    hvae.model.show_level(1)
    client = local_client(create_app([vamp, hvae], max_points=200))
    listed = client.get("/api/runs").json()
    ids = [r["id"] for r in listed]
    body = {"n": 5, "seed": 1, "projection": "latent"}
    sample = client.post(f"/api/runs/{ids[0]}/samples", json=body).json()
    assert sample["source"].startswith("the learned VampPrior")
    assert len(sample["images"]) == 5
    lower = client.post(f"/api/runs/{ids[1]}/samples", json={**body, "projection": "pca"}).json()
    assert "p(z1)" in lower["source"] and len(lower["z"][0]) == 4  # the 4-D lower level


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--objective", "vamp", "--pseudo-inputs", "0"], "--pseudo-inputs 0 must be"),
        (["--objective", "hvae", "--lower-latent-dim", "-3"], "--lower-latent-dim -3 must be"),
    ],
)
def test_bad_flags_get_one_line_errors(tmp_path, capsys, flags, message):
    assert main(["train", "--out", str(tmp_path / "r"), *flags, "--quiet"]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()
