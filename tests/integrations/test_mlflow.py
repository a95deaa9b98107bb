"""``train --mlflow`` and ``export mlflow`` against a local store, read back by MLflow."""

from __future__ import annotations

import json
import sys

import pytest

from vae_atlas.cli import main

mlflow = pytest.importorskip("mlflow")

TINY = ["--dataset", "digits", "--latent-dim", "2", "--hidden", "32", "--no-progress"]
TINY += ["--threads", "1", "--batch-size", "128"]


def metrics_rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def artifact_paths(client, run_id, path=None):
    out = []
    for info in client.list_artifacts(run_id, path):
        out += artifact_paths(client, run_id, info.path) if info.is_dir else [info.path]
    return sorted(out)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """One run trained one epoch, then resumed to two, both with --mlflow into one store."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'store.db'}"
    out = root / "run"
    args = ["train", *TINY, "--out", str(out), "--mlflow", uri, "--mlflow-experiment", "tests"]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    assert (root / "mlruns").is_dir()  # artifacts beside the database, not in the cwd
    return out, uri, mlflow.tracking.MlflowClient(tracking_uri=uri)


def only_run(client):
    experiment = client.get_experiment_by_name("tests")
    [run] = client.search_runs([experiment.experiment_id])
    return run


def test_params_metrics_and_run_files_are_logged(tracked):
    out, _, client = tracked
    run = only_run(client)  # the resume continued the same MLflow run
    assert run.info.run_name == "run"
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["model.latent_dim"] == "2"
    assert params["model.hidden"] == "32"
    assert params["data.name"] == "digits"
    assert params["train.batch_size"] == "128"
    rows = metrics_rows(out)
    for key in ("test_neg_elbo", "test_recon", "val_neg_elbo", "lr", "kl_weight"):
        history = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)
        assert [m.step for m in history] == [0, 1, 2], key
        assert [m.value for m in history] == pytest.approx([r[key] for r in rows], rel=1e-12)
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert sorted(m.step for m in history) == [1, 2]
    kl2 = sorted(
        client.get_metric_history(run.info.run_id, "test_kl_per_dim/z2"), key=lambda m: m.step
    )
    assert [m.value for m in kl2] == pytest.approx([r["test_kl_per_dim"][1] for r in rows])
    assert artifact_paths(client, run.info.run_id) == [
        "config.json",
        "metrics.jsonl",
        "model.safetensors",
        "state.json",
    ]


def test_export_adds_the_report_and_evaluation_to_the_same_run(tracked, capsys):
    out, uri, client = tracked
    (out / "report").mkdir()
    (out / "report" / "index.html").write_text("<html>atlas</html>")
    (out / "evaluation.json").write_text("{}")
    capsys.readouterr()
    assert main(["export", "mlflow", str(out), "--uri", uri, "--experiment", "tests"]) == 0
    run = only_run(client)
    assert f"mlflow: run {run.info.run_id} in {uri}" in capsys.readouterr().out
    paths = artifact_paths(client, run.info.run_id)
    assert "report/index.html" in paths and "evaluation.json" in paths
    # rows already in the MLflow run are not logged twice
    assert len(client.get_metric_history(run.info.run_id, "test_recon")) == 3


def test_export_without_uri_uses_mlflow_db_in_the_current_folder(tracked, tmp_path, monkeypatch):
    out, _, _ = tracked
    monkeypatch.chdir(tmp_path)
    assert main(["export", "mlflow", str(out)]) == 0
    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("vae-atlas").experiment_id])
    assert len(client.get_metric_history(run.info.run_id, "test_recon")) == 3
    assert (tmp_path / "mlruns").is_dir()


def test_bad_uri_is_one_line_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", *TINY, "--epochs", "1", "--out", str(out), "--mlflow", "nosuch://x"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --mlflow nosuch://x: ") and err.count("\n") == 1
    assert not out.exists()


def test_missing_mlflow_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out), "--mlflow"]) == 1
    assert capsys.readouterr().err == (
        "error: --mlflow needs the mlflow package: pip install 'vae-atlas[mlflow]'\n"
    )
    assert not out.exists()
