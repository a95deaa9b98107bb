"""evaluate_run / evaluate_model / ``vae-atlas evaluate`` on tiny runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tests.conftest import make_blobs_dataset
from vae_atlas.analysis.evaluation import EvaluationSettings, evaluate_model, evaluate_run
from vae_atlas.analysis.evaluation_file import EVALUATION_FILE, write_evaluation
from vae_atlas.cli import main
from vae_atlas.config import ModelConfig
from vae_atlas.data import Dataset, ImageSet, load_shapes
from vae_atlas.models import build_model
from vae_atlas.run import load_run

from ..tiny_runs import tiny_config, train_quietly

TINY = EvaluationSettings(k=20, max_test_images=40, disentanglement_points=200,
                          disentanglement_votes=40)  # fmt: skip


def _train(tmp_path, objective: str, *, binarize: bool = False):
    data = make_blobs_dataset(n=160)
    cfg = tiny_config(objective, batch_size=32, probe_size=10, dynamic_binarization=binarize)
    run = load_run(train_quietly(cfg, tmp_path / objective, dataset=data))
    run.__dict__["dataset"] = data  # the cached_property: use the same synthetic data
    return run


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("runs"), "vae")


def test_vae_run_gets_every_number(vae_run):
    r = evaluate_run(vae_run, settings=TINY)
    assert r.objective == "vae" and r.n_test == 40 and r.k == 20
    assert r.iwae_nll <= r.neg_elbo + 3 * r.iwae_nll_stderr  # IWAE_k is the tighter bound
    assert r.iwae_bits_per_dim == pytest.approx(r.iwae_nll / (64 * math.log(2)))
    assert 0.0 <= r.knn_accuracy <= 1.0 and 0.0 <= r.linear_probe_accuracy <= 1.0
    assert len(r.kl_per_dim) == 2 and r.total_correlation is not None
    assert r.smoothness >= 1.0 - 1e-9
    assert r.disentanglement is None and any("shapes" in n for n in r.notes)
    path = write_evaluation(r, vae_run.path)
    saved = json.loads(path.read_text())
    assert saved["kind"] == "vae-atlas.evaluation" and saved["iwae_nll"] == r.iwae_nll


def test_autoencoder_has_no_bound_and_says_so(tmp_path):
    r = evaluate_run(_train(tmp_path, "ae"), settings=TINY)
    assert r.iwae_nll is None and r.neg_elbo is None and r.kl_per_dim is None
    assert r.recon_nll is not None and r.total_correlation is None
    assert any("plain autoencoder" in n for n in r.notes)


def test_binarised_run_is_scored_on_the_training_loops_test_binarisation(tmp_path):
    run = _train(tmp_path, "vae", binarize=True)
    r = evaluate_run(run, settings=EvaluationSettings(k=1, max_test_images=None))
    assert r.binarized
    # a one-sample -ELBO on the same binary test images as the loop: close to its held-out number
    assert r.neg_elbo == pytest.approx(run.metrics[-1]["test_neg_elbo"], rel=0.1)


def test_unlabelled_data_skips_class_measures():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (60, 1, 8, 8), dtype=torch.uint8, generator=g)
    data = Dataset(name="folder", train=ImageSet(images[:40]), test=ImageSet(images[40:]))
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))).eval()
    r = evaluate_model(model, data, settings=TINY)
    assert r.knn_accuracy is None and r.linear_probe_accuracy is None and r.silhouette is None
    assert any("labels" in n for n in r.notes)


def test_shapes_gets_disentanglement_scores():
    data = load_shapes(image_size=32, n_samples=120, seed=0)
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 32, 32), latent_dim=3, hidden=(16,))).eval()
    r = evaluate_model(model, data, settings=TINY, shapes_image_size=32)
    assert set(r.disentanglement) >= {"beta_vae", "factor_vae", "mig", "dci_disentanglement", "sap"}
    assert all(np.isfinite(v) for v in r.disentanglement.values())


def test_cli_prints_a_table_and_writes_json(vae_run, capsys, monkeypatch):
    # the CLI reloads the run from disk, so give it the synthetic data through load_dataset
    import vae_atlas.run as run_module

    monkeypatch.setattr(run_module, "load_dataset", lambda cfg: vae_run.dataset)
    (vae_run.path / EVALUATION_FILE).unlink(missing_ok=True)
    assert main(["evaluate", str(vae_run.path), "--quick", "--k", "10", "--max-images", "30"]) == 0
    out = capsys.readouterr().out
    assert "IWAE k=10" in out and "kNN accuracy" in out and "note:" in out
    saved = json.loads((vae_run.path / EVALUATION_FILE).read_text())
    assert saved["k"] == 10 and saved["n_test"] == 30


def test_cli_user_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.startswith("error:")
    assert main(["evaluate", str(tmp_path), "--k", "0"]) == 1
    assert "--k" in capsys.readouterr().err
