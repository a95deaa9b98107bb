"""Failing writes during training (disk full, read-only folder), injected at every write of an
epoch's end: a clear error, a run that still loads, and a resume that ends with exactly the
weights of an uninterrupted run."""

from __future__ import annotations

import errno

import pytest
import torch

import vae_atlas as va
import vae_atlas.checkpoint as checkpoint
from tests.training.test_loop import tiny_config, weights
from vae_atlas.config import DataConfig
from vae_atlas.training import TrainingError, train

# the end of an epoch writes: snapshot, metrics.jsonl, model.safetensors, checkpoint.safetensors,
# state.json — one mkstemp each, two fsyncs each (file and folder)
FAULTS = {
    "disk-full": (checkpoint.os, "fsync", OSError(errno.ENOSPC, "No space left on device"), 10),
    "read-only": (
        checkpoint.tempfile,
        "mkstemp",
        PermissionError(errno.EACCES, "Permission denied"),
        5,
    ),
}
CASES = [(kind, n) for kind, (*_, writes) in FAULTS.items() for n in range(writes)]


@pytest.fixture(scope="module")
def digits():
    return va.load_dataset(DataConfig(name="digits"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, digits):
    out = tmp_path_factory.mktemp("faults") / "ref"
    train(tiny_config(epochs=3), out, dataset=digits, progress=False)
    return weights(out)


def fail_after(monkeypatch, target, name, n_ok, exc):
    original = getattr(target, name)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise exc
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)


@pytest.mark.parametrize(("kind", "n_ok"), CASES, ids=[f"{k}-after-{n}" for k, n in CASES])
def test_failing_write_leaves_a_loadable_resumable_run(
    tmp_path, digits, reference, monkeypatch, kind, n_ok
):
    target, name, exc, _ = FAULTS[kind]
    run_dir = tmp_path / "run"

    def fail_from_epoch_2(row):  # epoch 1 saved normally; the disk fails in epoch 2's writes
        if row["epoch"] == 1:
            fail_after(monkeypatch, target, name, n_ok, exc)

    with pytest.raises(TrainingError, match=exc.strerror) as info:
        train(
            tiny_config(epochs=3),
            run_dir,
            dataset=digits,
            progress=False,
            on_epoch_end=fail_from_epoch_2,
        )
    assert f"--resume --out {run_dir}" in str(info.value)
    monkeypatch.undo()
    run = va.load_run(run_dir)  # loads whatever the failure left
    assert run.metrics[-1]["epoch"] in (1, 2)
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]
    result = train(tiny_config(epochs=3), run_dir, dataset=digits, progress=False, resume=True)
    assert result.status == "complete"
    assert [m["epoch"] for m in va.load_run(run_dir).metrics] == [0, 1, 2, 3]
    got = weights(run_dir)
    for k in reference:
        assert torch.equal(got[k], reference[k]), k
