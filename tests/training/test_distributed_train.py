"""``torchrun --standalone --nproc-per-node 2 -m vae_atlas.cli train``: two gloo processes on
CPU train one run. Against one process with the same seed, global batch and config; a rank
killed with SIGKILL; resuming under the same number of processes (bit-identical) and under
another (it continues and says so)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import vae_atlas as va
from vae_atlas.checkpoint import load_tensors, read_header

ARGS = [
    "train", "--dataset", "digits", "--hidden", "32", "--latent-dim", "2",
    "--batch-size", "64", "--probe-size", "50", "--no-progress", "--seed", "5",
]  # fmt: skip


def launch(*args: str, nproc: int = 2) -> subprocess.Popen:
    """``vae-atlas ARGS`` under torchrun with ``nproc`` processes (plain python for 0)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runner = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
    cmd = [sys.executable, *(runner if nproc else []), "-m", "vae_atlas.cli", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen, returncode: int = 0) -> str:
    out, _ = proc.communicate(timeout=300)
    text = out.decode()
    assert proc.returncode == returncode, text
    return text


def traceback_from_us(text: str) -> bool:
    """Whether a traceback passes through vae-atlas code (torchrun prints its own summary, with
    a traceback of the launcher, whenever a process exits non-zero)."""
    return any('File "' in line and "vae_atlas" in line for line in text.splitlines())


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_tensors(run / "model.safetensors")[0]


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory) -> dict[str, Path | str]:
    """The same 2-epoch run trained by one process and by two (started together)."""
    root = tmp_path_factory.mktemp("ddp")
    one, two = root / "one", root / "two"
    procs = [launch(*ARGS, "--epochs", "2", "--out", str(one), nproc=0),
             launch(*ARGS, "--epochs", "2", "--out", str(two), "--threads", "1")]  # fmt: skip
    texts = [finish(p) for p in procs]
    return {"one": one, "two": two, "two_out": texts[1]}


def test_two_processes_match_one_within_half_a_percent(two_epochs) -> None:
    one = va.load_run(two_epochs["one"]).metrics[-1]
    two = va.load_run(two_epochs["two"]).metrics[-1]
    assert one["epoch"] == two["epoch"] == 2
    assert two["test_neg_elbo"] == pytest.approx(one["test_neg_elbo"], rel=0.005)
    # both epochs trained every one of the 1294 training images once, across the two ranks
    assert two["step"] == one["step"] == 2 * 21


def test_only_rank_0_reports_and_the_checkpoint_records_two_processes(two_epochs) -> None:
    text = two_epochs["two_out"]
    assert text.count("epoch 2/2") == 1, text  # one progress line per epoch, not one per rank
    assert "Traceback" not in text
    _, meta = read_header(Path(two_epochs["two"]) / "checkpoint.safetensors")
    assert meta is not None and meta["world_size"] == 2


def test_batch_that_does_not_divide_is_refused_before_any_file(tmp_path) -> None:
    out = tmp_path / "run"
    text = finish(launch(*ARGS, "--batch-size", "63", "--out", str(out)), returncode=1)
    assert "error: --batch-size 63 does not divide by the world size 2" in text, text
    assert text.count("error:") == 1  # reported once, by rank 0
    assert not traceback_from_us(text), text
    assert not out.exists()


def _worker_pid(launcher: int, rank: int) -> int | None:
    """The pid of the torchrun worker with ``RANK=rank`` under ``launcher``, if it runs yet."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == launcher and f"RANK={rank}".encode() in env:
            return int(entry.name)
    return None


@pytest.mark.slow  # three torchrun launches of 2 processes and one plain run (~90 s on 2 cores)
@pytest.mark.parametrize("victim", [0])  # the writer: its files must survive a SIGKILL
def test_sigkill_of_a_rank_then_resume_is_bit_identical(tmp_path, victim) -> None:
    args = [*ARGS, "--epochs", "8"]
    reference = tmp_path / "reference"
    finish(launch(*args, "--out", str(reference)))
    run = tmp_path / "run"
    proc = launch(*args, "--out", str(run))
    deadline = time.monotonic() + 120
    while proc.poll() is None:  # kill once the checkpoint after epoch 2 is on disk
        assert time.monotonic() < deadline
        meta = read_header(run / "checkpoint.safetensors")[1] if run.is_dir() else None
        pid = _worker_pid(proc.pid, victim)
        if meta and meta["epoch"] >= 2 and pid is not None:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    text = finish(proc, returncode=1)
    assert "lost another process of this run" in text and f"--resume --out {run}" in text, text
    assert not traceback_from_us(text), text
    loaded = va.load_run(run)  # what a killed rank leaves behind loads
    assert 2 <= loaded.metrics[-1]["epoch"] < 8
    elsewhere = tmp_path / "one-process"
    shutil.copytree(run, elsewhere)
    said = finish(launch("train", "--resume", "--out", str(elsewhere), "--no-progress", nproc=0))
    assert "was trained by 2 processes and continues with 1" in said, said
    assert va.load_run(elsewhere).metrics[-1]["epoch"] == 8
    finish(launch("train", "--resume", "--out", str(run), "--no-progress"))
    final, want = weights(run), weights(reference)
    assert final.keys() == want.keys()
    for name in final:
        assert torch.equal(final[name], want[name]), name
    assert [m["epoch"] for m in va.load_run(run).metrics] == list(range(9))


def test_nproc_flag_is_torchrun_without_the_launcher_noise(tmp_path) -> None:
    out = tmp_path / "run"
    text = finish(launch(*ARGS, "--epochs", "1", "--nproc", "2", "--out", str(out), nproc=0))
    assert text.count("epoch 1/1") == 1, text  # rank 0's line only
    assert "Traceback" not in text and "OMP_NUM_THREADS" not in text, text
    _, meta = read_header(out / "checkpoint.safetensors")
    assert meta is not None and meta["world_size"] == 2
    refused = finish(launch(*ARGS, "--nproc", "0", "--out", str(tmp_path / "r0"), nproc=0), 1)
    assert "error: --nproc 0 must be at least 1" in refused, refused


@pytest.mark.slow  # two launches of 2 processes (~40 s on 2 cores)
def test_ctrl_c_under_nproc_saves_every_rank_and_resumes(tmp_path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "vae_atlas.cli", *ARGS, "--epochs", "500", "--nproc", "2",
           "--out", str(out)]  # fmt: skip
    # its own process group, as a terminal's: Ctrl-C reaches the launcher and both workers
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not (out / "metrics.jsonl").is_file() or len(va.load_run(out).metrics) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    text = finish(proc, returncode=130)
    assert f"saved. Continue with: vae-atlas train --resume --out {out}" in text, text
    assert "Traceback" not in text, text
    done = va.load_run(out).metrics[-1]["epoch"]
    assert 2 <= done < 500
    resumed = [*ARGS, "--resume", "--epochs", str(done + 1), "--nproc", "2", "--out", str(out)]
    finish(launch(*resumed, nproc=0))
    assert va.load_run(out).metrics[-1]["epoch"] == done + 1
