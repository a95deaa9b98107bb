"""``kill -9`` of training at random moments: the run directory always loads, ``--resume``
completes, and the final weights equal an uninterrupted run's.

Trials default to 3 (set VAE_ATLAS_KILL_TRIALS=20 for the hardening run in docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import vae_atlas as va
from vae_atlas.checkpoint import load_tensors, read_metrics

ARGS = [
    "train",
    "--dataset",
    "digits",
    "--hidden",
    "32",
    "--latent-dim",
    "2",
    "--epochs",
    "6",
    "--batch-size",
    "32",
    "--probe-size",
    "50",
    "--no-progress",
    "--seed",
    "3",
]
TRIALS = int(os.environ.get("VAE_ATLAS_KILL_TRIALS", "3"))


def cli(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "vae_atlas.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kw,
    )


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out.decode()
    return out.decode()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, torch.Tensor]:
    out = tmp_path_factory.mktemp("ref") / "run"
    finish(cli(*ARGS, "--out", str(out)))
    return load_tensors(out / "model.safetensors")[0]


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_kill9_then_resume_gives_identical_weights(tmp_path, reference, trial):
    rng = random.Random(1000 + trial)
    run_dir = tmp_path / "run"
    proc = cli(*ARGS, "--out", str(run_dir))
    # wait until training has started (config written), then kill at a random moment
    deadline = time.monotonic() + 120
    while not (run_dir / "config.json").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 2.5))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate()
    run = va.load_run(run_dir)  # every state it can be left in loads
    assert run.config.train.epochs == 6
    finish(cli("train", "--resume", "--out", str(run_dir), "--no-progress"))
    final = load_tensors(run_dir / "model.safetensors")[0]
    assert final.keys() == reference.keys()
    for k in final:
        assert torch.equal(final[k], reference[k]), k
    assert [m["epoch"] for m in va.load_run(run_dir).metrics] == list(range(7))
    assert not any(p.name.endswith(".tmp") for p in Path(run_dir).rglob("*"))


@pytest.mark.slow
@pytest.mark.parametrize("after_epoch", [0, 1, 3])
def test_ctrl_c_saves_says_how_to_resume_and_resumes_identically(tmp_path, reference, after_epoch):
    run_dir = tmp_path / "run"
    proc = cli(*ARGS, "--out", str(run_dir))
    deadline = time.monotonic() + 120
    # interrupt as soon as epoch `after_epoch` is in metrics.jsonl (3+ of 6 epochs still to go)
    while proc.poll() is None:
        assert time.monotonic() < deadline
        rows = read_metrics(run_dir / "metrics.jsonl")
        if rows and rows[-1]["epoch"] >= after_epoch:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    text = out.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    assert f"vae-atlas train --resume --out {run_dir}" in text
    assert va.load_run(run_dir).state["status"] == "interrupted"
    finish(cli("train", "--resume", "--out", str(run_dir), "--no-progress"))
    final = load_tensors(run_dir / "model.safetensors")[0]
    for k in final:
        assert torch.equal(final[k], reference[k]), k
