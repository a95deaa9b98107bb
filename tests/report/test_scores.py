"""A report shows `vae-atlas evaluate`'s numbers when they belong to the run's current weights."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.report.test_report_build import FAST
from vae_atlas.analysis.evaluation import EvaluationSettings, evaluate_run
from vae_atlas.analysis.evaluation_file import write_evaluation
from vae_atlas.report import build_comparison
from vae_atlas.report.scores import evaluation_rows
from vae_atlas.run import load_run


@pytest.fixture()
def evaluated(tiny_runs, tmp_path):
    """A copy of the 2-D VAE run with a quick evaluation.json (the shared runs stay untouched)."""
    run_dir = tmp_path / "vae2-evaluated"
    shutil.copytree(tiny_runs["vae2"], run_dir)
    run = load_run(run_dir)
    write_evaluation(evaluate_run(run, settings=EvaluationSettings.quick(k=20)), run_dir)
    return run_dir


def test_rows_come_from_a_current_evaluation(evaluated):
    rows = evaluation_rows(load_run(evaluated))
    iwae = [k for k in rows if k.startswith("−log p(x), IWAE k=20")]
    assert len(iwae) == 1 and " ± " in rows[iwae[0]]
    assert float(rows["interpolation path / chord"]) >= 1.0
    assert float(rows["interpolation largest / mean step"]) >= 1.0
    assert rows["active dimensions (KL ≥ 0.01 nats)"].endswith("/ 2")


def test_missing_stale_and_damaged_files_each_say_what_to_run(tiny_runs, evaluated):
    assert "not run yet" in next(iter(evaluation_rows(load_run(tiny_runs["ae2"])).values()))
    path = evaluated / "evaluation.json"
    ev = json.loads(path.read_text())
    ev["weights_sha256"] = "0" * 64  # as if the run had been resumed after evaluating
    path.write_text(json.dumps(ev))
    (message,) = evaluation_rows(load_run(evaluated)).values()
    assert "other weights" in message and "vae-atlas evaluate" in message
    for damaged in (
        "{",
        "[1, 2]",
        '{"kind": "something else"}',
        '{"kind": "vae-atlas.evaluation"}',
    ):
        path.write_text(damaged)
        (message,) = evaluation_rows(load_run(evaluated)).values()
        assert "unreadable" in message or "older vae-atlas" in message, damaged


def test_comparison_page_shows_the_scores_beside_the_figures(tiny_runs, evaluated, tmp_path):
    index = build_comparison([tiny_runs["ae2"], evaluated], tmp_path / "cmp", options=FAST)
    html = index.read_text()
    assert "IWAE k=20" in html and "interpolation largest / mean step" in html
    assert "not run yet" in html  # the AE run was never evaluated
