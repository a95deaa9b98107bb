"""One writer per run: an OS file lock held by train, --resume, report and evaluate, released
when its process dies. Every test here uses a second, real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import vae_atlas as va
from tests.conftest import REPO
from vae_atlas.checkpoint import read_metrics
from vae_atlas.training.rundir import create_run

TRAIN = ["train", "--dataset", "digits", "--hidden", "16", "--probe-size", "20", "--no-progress"]
HOLDER = """
import sys, time
from pathlib import Path
from vae_atlas.training.lock import locked_run
with locked_run(Path(sys.argv[1]), "holder"):
    print("locked", flush=True)
    time.sleep(600)
"""

STAGER = """
import sys, time
from pathlib import Path
from vae_atlas.training.lock import acquire_run_lock
acquire_run_lock(Path(sys.argv[1]), "train")
print("locked", flush=True)
time.sleep(600)
"""


def cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "vae_atlas.cli", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    proc = cli(*args)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lock") / "run"
    proc = run_cli(*TRAIN, "--epochs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def holder(trained):
    """Another process that holds the run's lock until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(trained)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--resume", "--epochs", "2", "--no-progress", "--out", "RUN"],
        ["evaluate", "RUN", "--quick", "--max-images", "50"],
        ["report", "RUN", "--no-gif", "--max-points", "50"],
    ],
    ids=["resume", "evaluate", "report"],
)
def test_a_second_writer_gets_one_line_naming_the_run(trained, holder, command):
    before = files(trained)
    proc = run_cli(*[str(trained) if a == "RUN" else a for a in command])
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert str(trained) in proc.stderr
    assert "another process" in proc.stderr and f"pid {holder.pid}" in proc.stderr
    assert files(trained) == before
    assert not (trained / "report").exists()


def test_the_lock_dies_with_its_process(trained, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    proc = run_cli("evaluate", str(trained), "--quick", "--max-images", "50")
    assert proc.returncode == 0, proc.stderr
    assert (trained / "evaluation.json").exists()


def test_two_trainings_into_the_same_folder_leave_one_whole_run(tmp_path):
    out = tmp_path / "same"
    procs = [cli(*TRAIN, "--epochs", "3", "--out", str(out)) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, err in results if code == 1)
    assert loser.startswith("error: ") and str(out) in loser, loser
    assert "Traceback" not in loser
    run = va.load_run(out)
    assert [row["epoch"] for row in read_metrics(out / "metrics.jsonl")] == [0, 1, 2, 3]
    assert run.state["status"] == "complete"


def test_a_new_run_clears_a_killed_set_up_but_not_one_another_process_is_filling(tmp_path):
    live, dead = tmp_path / ".run.live.staging", tmp_path / ".run.dead.staging"
    for folder in (live, dead):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    (dead / ".lock").write_text("vae-atlas train, pid 1\n")  # its process has gone
    stager = subprocess.Popen(
        [sys.executable, "-c", STAGER, str(live)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert stager.stdout.readline().strip() == "locked"
        target = tmp_path / "run"
        create_run(target, lambda f: (f / "model.safetensors").write_bytes(b"new"), lambda f: None)
    finally:
        stager.kill()
        stager.wait(timeout=30)
    assert (target / "model.safetensors").read_bytes() == b"new"
    assert (live / "model.safetensors").read_bytes() == b"half"
    assert not dead.exists()
