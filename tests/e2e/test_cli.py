"""The command line as a user meets it: the demo, train/resume, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import vae_atlas as va
from vae_atlas.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vae_atlas.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_demo_trains_and_reports(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli("demo", "--out", str(out), "--no-progress", "--epochs", "20")
    assert proc.returncode == 0, proc.stderr
    assert f"run: {out}" in proc.stdout
    assert "held-out -ELBO" in proc.stdout
    assert va.load_run(out).state["status"] == "complete"
    # a second demo never overwrites the first
    proc2 = run_cli("demo", "--out", str(out), "--no-progress", "--epochs", "1", "--no-report")
    assert proc2.returncode == 0, proc2.stderr
    assert f"run: {out}-2" in proc2.stdout


def test_train_then_resume_extends(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(
            [
                "train",
                "--dataset",
                "digits",
                "--hidden",
                "16",
                "--epochs",
                "1",
                "--adam-eps",
                "1e-4",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert main(["train", "--resume", "--epochs", "2", "--no-progress", "--out", str(out)]) == 0
    assert "resuming" in capsys.readouterr().out
    run = va.load_run(out)
    assert run.metrics[-1]["epoch"] == 2
    assert run.config.train.adam_eps == 1e-4  # the run's own setting, not the CLI default


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["train", "--dataset", "mnist", "--data-dir", "/nonexistent/x", "--out", "R"],
            "train-images-idx3-ubyte",
        ),
        (["train", "--resume", "--out", "R"], "nothing to resume"),
        (["train", "--dataset", "digits", "--latent-dim", "0", "--out", "R"], "--latent-dim 0"),
        (["train", "--dataset", "folder", "--out", "R"], "--data-dir is required"),
        (["train", "--dataset", "digits", "--family", "conv", "--out", "R"], "conv"),
    ],
)
def test_user_errors_are_one_line_without_traceback(tmp_path, args, message):
    args = [a.replace("R", str(tmp_path / "run")) if a == "R" else a for a in args]
    proc = run_cli(*args)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert message in proc.stderr
