"""A crafted checkpoint.safetensors is refused, naming the file and the field, before anything
uses it: fused Adam, ``index_select`` and the RNG would otherwise read out of bounds.

Every crafted run is resumed in one child process, so a crash (a segfault, exit -11) fails these
tests instead of killing pytest; each case prints a line before and after it runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from tests.conftest import REPO, make_blobs_dataset
from vae_atlas.checkpoint import load_tensors, save_tensors
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.training import train

CKPT = "checkpoint.safetensors"
# encoder.net.1.weight: Linear(64 -> 16), the first parameter, so optim.0.*
W0 = (16, 64)
N_TRAIN = 192  # make_blobs_dataset(): 256 images, 3/4 for training
STEPS_PER_EPOCH = 3  # 192 / 64


def tiny_config(epochs: int) -> RunConfig:
    return RunConfig(
        data=DataConfig(name="digits", val_size=0),  # all 192 images train
        model=ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)),
        train=TrainConfig(epochs=epochs, batch_size=64, probe_size=10, lr_final_fraction=1.0),
    )


def _mid_epoch(tensors, meta):
    """A consistent mid-epoch position: 2 of 3 batches of epoch 2 done."""
    tensors["loop.perm"] = torch.randperm(N_TRAIN, generator=torch.Generator().manual_seed(3))
    meta.update(batch_index=2, step=STEPS_PER_EPOCH + 2, epoch_seconds=0.5, skipped_batches=0)
    meta["sums"] = {"loss": "100.0", "recon": "90.0", "kl": "10.0", "images": "128.0"}


def _set(key, value):
    def edit(tensors, meta):
        tensors[key] = value

    return edit


def _meta(**changes):
    def edit(tensors, meta):
        meta.update(changes)

    return edit


def _mid(edit):
    def both(tensors, meta):
        _mid_epoch(tensors, meta)
        edit(tensors, meta)

    return both


def _drop(key):
    def edit(tensors, meta):
        del tensors[key]

    return edit


def _drop_meta(key):
    def edit(tensors, meta):
        del meta[key]

    return edit


def _group(**changes):
    def edit(tensors, meta):
        meta["param_groups"][0].update(changes)

    return edit


# case name -> (edit, the field the error must name); field None: must resume fine
CASES = {
    "untouched": (lambda t, m: None, None),
    "valid mid-epoch position": (_mid_epoch, None),
    "exp_avg (3,) for a (16, 64) weight": (
        _set("optim.0.exp_avg", torch.zeros(3)),
        "optim.0.exp_avg",
    ),
    "exp_avg transposed": (_set("optim.0.exp_avg", torch.zeros(64, 16)), "optim.0.exp_avg"),
    "exp_avg_sq oversized": (_set("optim.0.exp_avg_sq", torch.zeros(32, 64)), "optim.0.exp_avg_sq"),
    "exp_avg float64": (
        _set("optim.0.exp_avg", torch.zeros(W0, dtype=torch.float64)),
        "optim.0.exp_avg",
    ),
    "exp_avg int32": (
        _set("optim.0.exp_avg", torch.zeros(W0, dtype=torch.int32)),
        "optim.0.exp_avg",
    ),
    "exp_avg NaN": (_set("optim.0.exp_avg", torch.full(W0, float("nan"))), "optim.0.exp_avg"),
    "exp_avg_sq negative": (_set("optim.0.exp_avg_sq", torch.full(W0, -1.0)), "optim.0.exp_avg_sq"),
    "step of shape (2,)": (_set("optim.0.step", torch.zeros(2)), "optim.0.step"),
    "step negative": (_set("optim.0.step", torch.tensor(-5.0)), "optim.0.step"),
    "step Inf": (_set("optim.0.step", torch.tensor(float("inf"))), "optim.0.step"),
    "step beyond the loop's steps": (_set("optim.0.step", torch.tensor(1e9)), "optim.0.step"),
    "state for parameter 99": (_set("optim.99.exp_avg", torch.zeros(3)), "optim.99.exp_avg"),
    "non-numeric parameter index": (_set("optim.x.exp_avg", torch.zeros(3)), "optim.x.exp_avg"),
    "unknown slot": (_set("optim.0.momentum", torch.zeros(W0)), "optim.0.momentum"),
    "half a parameter's state": (_drop("optim.0.exp_avg_sq"), "optim.0"),
    "unknown tensor": (_set("evil", torch.zeros(1)), "evil"),
    "rng.train missing": (_drop("rng.train"), "rng.train"),
    "rng.train 100 bytes": (_set("rng.train", torch.zeros(100, dtype=torch.uint8)), "rng.train"),
    "rng.train float": (_set("rng.train", torch.zeros(5056)), "rng.train"),
    "rng.train invalid mt19937 state": (
        _set("rng.train", torch.zeros(5056, dtype=torch.uint8)),
        "rng.train",
    ),
    "perm value out of range": (
        _mid(_set("loop.perm", torch.arange(N_TRAIN) + 10**6)),
        "loop.perm",
    ),
    "perm negative": (_mid(_set("loop.perm", torch.arange(N_TRAIN) - N_TRAIN)), "loop.perm"),
    "perm with a repeat": (
        _mid(_set("loop.perm", torch.zeros(N_TRAIN, dtype=torch.int64))),
        "loop.perm",
    ),
    "perm too short": (_mid(_set("loop.perm", torch.arange(5))), "loop.perm"),
    "perm float": (_mid(_set("loop.perm", torch.arange(N_TRAIN).double())), "loop.perm"),
    "perm 2-D": (_mid(_set("loop.perm", torch.arange(N_TRAIN).reshape(2, -1))), "loop.perm"),
    "step negative (meta)": (_meta(step=-1), "step"),
    "step inconsistent with epoch": (_meta(step=10**6), "step"),
    "epoch a string": (_meta(epoch="1"), "epoch"),
    "epoch negative": (_meta(epoch=-1), "epoch"),
    "batch_index past the epoch": (_mid(_meta(batch_index=50, step=53)), "batch_index"),
    "batch_index without perm": (_meta(batch_index=2, step=5), "batch_index"),
    "sums NaN": (_mid(_meta(sums={"loss": "nan", "recon": "1", "kl": "1", "images": "1"})), "sums"),
    "sums not numbers": (
        _mid(_meta(sums={"loss": "x", "recon": "1", "kl": "1", "images": "1"})),
        "sums",
    ),
    "sums a list": (_mid(_meta(sums=[1, 2])), "sums"),
    "sums missing keys": (_mid(_meta(sums={"loss": "1.0"})), "sums"),
    "skipped_batches negative": (_meta(skipped_batches=-3), "skipped_batches"),
    "epoch_seconds NaN": (_meta(epoch_seconds=float("nan")), "epoch_seconds"),
    "param_groups params out of range": (_group(params=[50, 51]), "param_groups"),
    "param_groups capturable": (_group(capturable=True), "param_groups"),
    "param_groups betas": (_group(betas=[2.0, 0.5]), "param_groups"),
    "param_groups lr NaN": (_group(lr=float("nan")), "param_groups"),
    "param_groups unknown key": (_group(evil=1), "param_groups"),
    "param_groups a string": (_meta(param_groups="x"), "param_groups"),
    # a checkpoint written before every stream came from one derivation: resumed, it would
    # draw another validation split, so it is refused rather than silently mixed
    "seeds from an older derivation": (_drop_meta("seeds"), "derived its random streams"),
    "seeds from an unknown derivation": (_meta(seeds="x/2"), "derived its random streams"),
    "model weight transposed": (
        _set("model.encoder.net.1.weight", torch.zeros(64, 16)),
        "model.encoder.net.1.weight",
    ),
}

CHILD = """
import json, sys
from pathlib import Path
from vae_atlas.checkpoint import RunFileError
from vae_atlas.config import RunConfig
from vae_atlas.training import train
from tests.conftest import make_blobs_dataset
data = make_blobs_dataset()
for name, path in json.loads(sys.argv[1]):
    print(json.dumps({"case": name, "started": True}), flush=True)
    cfg = RunConfig.from_json((Path(path) / "config.json").read_text())
    try:
        train(cfg, path, dataset=data, resume=True, progress=False, log=lambda line: None)
        result = ["ok", ""]
    except RunFileError as exc:
        result = ["RunFileError", str(exc)]
    except BaseException as exc:
        result = [type(exc).__name__, str(exc)]
    print(json.dumps({"case": name, "result": result}), flush=True)
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("ckpt") / "base"
    train(tiny_config(1), base, dataset=make_blobs_dataset(), progress=False)
    saved = RunConfig.from_json((base / "config.json").read_text())
    longer = replace(saved, train=replace(saved.train, epochs=2))
    (base / "config.json").write_text(longer.to_json())
    cases = []
    for i, (name, (edit, _)) in enumerate(CASES.items()):
        run = base.parent / f"case{i}"
        shutil.copytree(base, run)
        tensors, meta = load_tensors(run / CKPT)
        edit(tensors, meta)
        save_tensors(run / CKPT, tensors, meta)
        cases.append((name, str(run)))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cases)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    found: dict[str, list[str]] = {}
    last = None
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        last = row["case"]
        if "result" in row:
            found[row["case"]] = row["result"]
    return found, proc.returncode, last, proc.stderr[-2000:]


@pytest.mark.parametrize("name", list(CASES))
def test_crafted_checkpoint_is_refused_naming_the_field(outcomes, name):
    found, rc, last, stderr = outcomes
    assert name in found, f"the child died (exit {rc}) during case {last!r}: {stderr}"
    kind, message = found[name]
    field = CASES[name][1]
    if field is None:
        assert kind == "ok", message
        return
    assert kind == "RunFileError", f"{kind}: {message}"
    assert CKPT in message
    assert field in message
    assert "\n" not in message
