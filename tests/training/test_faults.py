"""Failing writes during training (disk full, read-only folder): a clear error, and the previous
checkpoint stays intact and loadable."""

from __future__ import annotations

import errno

import pytest

import vae_atlas as va
import vae_atlas.checkpoint as checkpoint
from tests.training.test_loop import tiny_config, weights
from vae_atlas.config import DataConfig
from vae_atlas.training import TrainingError, train


@pytest.fixture(scope="module")
def digits():
    return va.load_dataset(DataConfig(name="digits"))


def fail_after(monkeypatch, target, name, n_ok, exc):
    original = getattr(target, name)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise exc
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def epoch1_reference(tmp_path, digits):
    ref = tmp_path / "ref"
    train(tiny_config(epochs=1), ref, dataset=digits, progress=False)
    return weights(ref)


@pytest.mark.parametrize(
    "target, name, exc, words",
    [
        (checkpoint.os, "fsync", OSError(errno.ENOSPC, "No space left on device"), "No space left"),
        (
            checkpoint.tempfile,
            "mkstemp",
            PermissionError(errno.EACCES, "Permission denied"),
            "Permission denied",
        ),
    ],
    ids=["disk-full", "read-only"],
)
def test_failing_write_keeps_previous_checkpoint(
    tmp_path, digits, monkeypatch, target, name, exc, words
):
    expected = epoch1_reference(tmp_path, digits)
    run_dir = tmp_path / "run"
    state = {"epoch": 0}
    import vae_atlas.training.loop as loop

    original_end = loop._Loop._end_epoch

    def end_epoch(self, pos):
        if state["epoch"] == 1:  # epoch 1 was saved normally; the disk fails from epoch 2 on
            fail_after(monkeypatch, target, name, 0, exc)
        state["epoch"] += 1
        return original_end(self, pos)

    monkeypatch.setattr(loop._Loop, "_end_epoch", end_epoch)
    with pytest.raises(TrainingError, match=words) as info:
        train(tiny_config(epochs=3), run_dir, dataset=digits, progress=False)
    assert "epoch 1 is intact" in str(info.value)
    assert "--resume" in str(info.value)
    monkeypatch.undo()
    run = va.load_run(run_dir)
    assert [m["epoch"] for m in run.metrics] == [0, 1]
    got = weights(run_dir)
    for k in expected:
        assert (got[k] == expected[k]).all(), k
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]
    # and the run continues once the disk is back
    result = train(tiny_config(epochs=3), run_dir, dataset=digits, progress=False, resume=True)
    assert result.status == "complete"
