"""``train --tensorboard`` and ``export tensorboard``, read back with TensorBoard's own reader and
compared with the run's own metrics.jsonl and the model's encode/decode."""

from __future__ import annotations

import io
import json
import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import vae_atlas as va
from vae_atlas.cli import main

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

TINY = ["--dataset", "digits", "--latent-dim", "2", "--hidden", "32", "--no-progress"]
TINY += ["--threads", "1", "--batch-size", "128"]
# TensorBoard tag -> metrics.jsonl key, written out here rather than taken from the code
TAGS = {
    "loss/train": "train_loss",
    "recon/train": "train_recon",
    "kl/train": "train_kl",
    "recon/test": "test_recon",
    "kl/test": "test_kl",
    "neg_elbo/test": "test_neg_elbo",
    "neg_elbo/val": "val_neg_elbo",
    "schedule/lr": "lr",
    "schedule/beta": "kl_weight",
}


def read_events(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def metrics_rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def assert_scalars_match(acc, rows, latent_dim):
    for tag, key in TAGS.items():
        expected = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        assert [s for s, _ in got] == [s for s, _ in expected], tag
        assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-6), tag
    for d in range(latent_dim):
        got = [e.value for e in acc.Scalars(f"kl_per_dim/z{d + 1}")]
        assert got == pytest.approx([r["test_kl_per_dim"][d] for r in rows], rel=1e-6, abs=1e-9)


def tiles(png: bytes, side: int) -> np.ndarray:
    """A grid image cut into its (rows, cols, side, side) tiles, grey in [0, 1]."""
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32) / 255.0
    rows, cols = img.shape[0] // side, img.shape[1] // side
    return img.reshape(rows, side, cols, side).transpose(0, 2, 1, 3)


def check_projector(log_dir, run):
    config = (log_dir / "projector_config.pbtxt").read_text()
    [folder] = [p for p in log_dir.iterdir() if p.is_dir()]
    embedding = folder / "latent_means"
    assert f'tensor_path: "{folder.name}/latent_means/tensors.tsv"' in config
    assert "single_image_dim: 8" in config
    test = run.dataset.test
    n = test.images.shape[0]
    tensors = np.loadtxt(embedding / "tensors.tsv", delimiter="\t")
    # a 2-D code gets a zero third column: the projector's PCA draws nothing below 3-D
    assert tensors.shape == (n, 3)
    assert not tensors[:, 2].any()
    with torch.no_grad():
        mu, _ = run.model.encode(test.images.float() / 255.0)
    assert np.abs(tensors[:, :2] - mu.numpy()).max() < 1e-5
    labels = (embedding / "metadata.tsv").read_text().split("\n")[:n]
    assert labels == [str(int(c)) for c in test.labels]
    side = math.ceil(math.sqrt(n)) * 8
    assert Image.open(embedding / "sprite.png").size == (side, side)
    return int(folder.name)


def test_train_with_tensorboard_logs_every_epoch_and_the_projector(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "2", "--out", str(out), "--tensorboard"]) == 0
    assert f"tensorboard: {out / 'tensorboard'}" in capsys.readouterr().out
    rows = metrics_rows(out)
    acc = read_events(out / "tensorboard")
    assert_scalars_match(acc, rows, latent_dim=2)
    assert [e.step for e in acc.Images("prior_samples")] == [1, 2]
    recon = acc.Images("reconstructions")
    assert [e.step for e in recon] == [1, 2]
    run = va.load_run(out)
    grid = tiles(recon[-1].encoded_image_string, 8)  # originals above their reconstructions
    assert grid.shape == (2, 8, 8, 8)
    with torch.no_grad():
        mu, _ = run.model.encode(torch.as_tensor(grid[0])[:, None])
        decoded = run.model.decode(mu)[:, 0].numpy()
    # the originals went through the 8-bit PNG, hence the tolerance of a few grey levels
    assert np.abs(decoded - grid[1]).max() < 4 / 255
    assert check_projector(out / "tensorboard", run) == 2


def test_resumed_run_continues_the_same_log(tmp_path):
    out, logs = tmp_path / "run", tmp_path / "tb"
    args = ["train", *TINY, "--out", str(out), "--tensorboard", str(logs)]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    acc = read_events(logs)
    assert [e.step for e in acc.Scalars("recon/test")] == [0, 1, 2]
    assert [e.step for e in acc.Scalars("loss/train")] == [1, 2]
    assert not (out / "tensorboard").exists()


def test_export_tensorboard_writes_an_existing_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "2", "--out", str(out)]) == 0
    logs = tmp_path / "exported"
    assert main(["export", "tensorboard", str(out), "--out", str(logs)]) == 0
    assert f"wrote {logs}" in capsys.readouterr().out
    acc = read_events(logs)
    assert_scalars_match(acc, metrics_rows(out), latent_dim=2)
    # per-epoch weights are not kept, so the images are the final weights' only
    assert [e.step for e in acc.Images("reconstructions")] == [2]
    assert check_projector(logs, va.load_run(out)) == 2
    # a second export into the same folder would show every epoch twice
    assert main(["export", "tensorboard", str(out), "--out", str(logs)]) == 1
    assert capsys.readouterr().err == (
        f"error: {logs} already holds TensorBoard logs; give --out another folder\n"
    )


def test_missing_tensorboard_is_one_line_and_trains_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard now fails
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out), "--tensorboard"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: --tensorboard needs the tensorboard package: pip install 'vae-atlas[tensorboard]'\n"
    )
    assert not out.exists()
