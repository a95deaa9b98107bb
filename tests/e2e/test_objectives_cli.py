"""The disentangling objectives end to end: trained from the command line on the digits (one
epoch, tiny sizes), then ``report``, ``compare``, ``evaluate`` and the explorer's API on each;
bad settings are one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

import vae_atlas as va
from vae_atlas.cli import main
from vae_atlas.explorer import create_app

FAMILIES = {
    "beta-tcvae": ["--tc-beta", "4", "--tc-estimator", "mws"],
    "dip-vae": ["--dip-type", "ii", "--dip-lambda-od", "5"],
    "factor-vae": ["--factor-gamma", "10", "--factor-hidden", "16,16"],
}

LABELS = {
    "beta-tcvae": "beta-tcvae (α = 1, β = 4, γ = 1, MWS)",
    "dip-vae": "dip-vae (type ii, λ_od = 5, λ_d = 5)",
    "factor-vae": "factor-vae (γ = 10)",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("objectives")
    out = {}
    for objective, flags in FAMILIES.items():
        run = root / objective
        args = ["train", "--dataset", "digits", "--objective", objective, *flags]
        args += ["--latent-dim", "3", "--hidden", "16", "--epochs", "1", "--quiet"]
        assert main([*args, "--out", str(run)]) == 0
        out[objective] = run
    return out


@pytest.mark.parametrize("objective", list(FAMILIES))
def test_report_and_evaluate_work_on_each_family(runs, objective, tmp_path, capsys):
    run = runs[objective]
    config = va.load_run(run).config.model
    assert config.objective == objective
    report = tmp_path / "report"
    args = ["report", str(run), "--out", str(report), "--grid-size", "5", "--no-gif"]
    assert main([*args, "--max-points", "150"]) == 0
    html = (report / "index.html").read_text()
    assert LABELS[objective] in html  # the report names the objective and its weights
    assert main(["evaluate", str(run), "--quick", "--max-images", "100"]) == 0
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation  # written; its numbers are the evaluation suite's to check
    capsys.readouterr()


def test_the_flags_reach_the_config(runs):
    tc = va.load_run(runs["beta-tcvae"]).config.model
    assert (tc.tc_beta, tc.tc_estimator) == (4.0, "mws")
    dip = va.load_run(runs["dip-vae"]).config.model
    assert (dip.dip_type, dip.dip_lambda_od, dip.dip_lambda_d) == ("ii", 5.0, 5.0)
    factor = va.load_run(runs["factor-vae"]).config.model
    assert (factor.factor_gamma, factor.factor_hidden) == (10.0, (16, 16))


def test_compare_and_the_explorer_take_all_three(runs, tmp_path, capsys):
    paths = [str(runs[o]) for o in FAMILIES]
    out = tmp_path / "cmp"
    assert main(["compare", *paths, "--out", str(out), "--grid-size", "5"]) == 0
    assert (out / "index.html").exists()
    capsys.readouterr()
    loaded = [va.load_run(p) for p in paths]
    client = TestClient(create_app(loaded), base_url="http://127.0.0.1")
    listed = client.get("/api/runs").json()
    assert len(listed) == 3
    for entry in listed:
        run_id = entry["id"]
        detail = client.get(f"/api/runs/{run_id}").json()
        assert detail["latent_dim"] == 3
        mapped = client.get(f"/api/runs/{run_id}/map").json()
        assert mapped
        png = client.get(f"/api/runs/{run_id}/decode.png?z=0,0.5,-1")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_a_negative_gamma_is_one_line_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "vae_atlas.cli", "train", "--dataset", "digits"]
        + ["--objective", "factor-vae", "--factor-gamma", "-1", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stderr == "error: --factor-gamma -1.0 must be >= 0\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--objective", "ae", "--factor-gamma", "3"], "--factor-gamma 3.0 applies to objective"),
        (["--objective", "beta-tcvae", "--tc-gamma", "-2"], "--tc-gamma -2.0 must be >= 0"),
        (["--objective", "dip-vae", "--beta", "4"], "--beta 4.0 applies to objective='beta-vae'"),
        (["--objective", "beta-tcvae", "--tc-estimator", "kde"], "invalid choice: 'kde'"),
        (["--objective", "beta-tcvae", "--nproc", "2"], "trains in one process; leave --nproc"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, flags, message):
    args = ["train", "--dataset", "digits", *flags, "--out", str(tmp_path / "run")]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse refuses a bad choice itself
        code = exc.code
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
