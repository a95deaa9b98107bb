"""Hostile run files within parser and memory limits: huge models asked for by config.json are
refused from the safetensors header before anything is allocated, and the JSON files' parser
limits (nesting, digits, directories, metrics rows) are RunFileErrors naming the file.

The size cases run in a child process limited to 3 GiB of address space and 60 s: a loader that
builds the model first fails them (by a MemoryError or a kill) instead of swapping the machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

import vae_atlas as va
from tests.conftest import REPO, make_blobs_dataset
from vae_atlas.checkpoint import RunFileError
from vae_atlas.cli import main
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig

CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
import vae_atlas as va
from vae_atlas.checkpoint import RunFileError
try:
    va.load_run(sys.argv[1])
    print("loaded")
except RunFileError as exc:
    print("RunFileError:", exc)
"""


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    cfg = RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(8,)),
        train=TrainConfig(epochs=1, batch_size=64, probe_size=10),
    )
    out = tmp_path_factory.mktemp("limits") / "run"
    va.train(cfg, out, dataset=make_blobs_dataset(), progress=False)
    return out


@pytest.fixture
def run_copy(good_run, tmp_path):
    return shutil.copytree(good_run, tmp_path / "copy")


def edit_config(run, section, **values):
    raw = json.loads((run / "config.json").read_text())
    raw[section].update(values)
    (run / "config.json").write_text(json.dumps(raw))


@pytest.mark.parametrize(
    "values",
    [
        {"latent_dim": 10**12},
        {"hidden": [100_000, 100_000]},
        {"image_shape": [1, 100_000, 100_000]},
    ],
    ids=["latent_dim 1e12", "hidden 1e5x1e5", "image 1e5x1e5"],
)
def test_huge_models_are_refused_before_allocating(run_copy, values):
    edit_config(run_copy, "model", **values)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(run_copy)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.perf_counter() - start < 60
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert proc.stdout.startswith("RunFileError:"), proc.stdout + proc.stderr[-1500:]
    assert "model.safetensors" in proc.stdout or "config.json" in proc.stdout


def test_a_weights_file_longer_than_its_header_says_is_refused(run_copy):
    with (run_copy / "model.safetensors").open("ab") as f:
        f.write(b"\0" * 1000)
    with pytest.raises(RunFileError, match=r"model\.safetensors"):
        va.load_run(run_copy)


@pytest.mark.parametrize(
    "name, text",
    [
        ("config.json", "[" * 100_000 + "]" * 100_000),
        ("config.json", '{"kind": "vae-atlas.run", "schema_version": ' + "9" * 5000 + "}"),
        ("state.json", "[" * 100_000 + "]" * 100_000),
        ("state.json", "1" * 5000),
        ("metrics.jsonl", '{"epoch": 0}\n' + "[" * 100_000 + "]" * 100_000 + "\n{}\n"),
        ("metrics.jsonl", '{"epoch": ' + "1" * 5000 + "}\n{}\n"),
    ],
    ids=["config nested", "config 5000 digits", "state nested", "state 5000 digits",
         "metrics nested", "metrics 5000 digits"],
)  # fmt: skip
def test_parser_limits_are_run_file_errors(run_copy, name, text):
    (run_copy / name).write_text(text)
    with pytest.raises(RunFileError, match=name.replace(".", r"\.")):
        va.load_run(run_copy)


def test_state_json_that_is_a_directory(run_copy):
    (run_copy / "state.json").unlink()
    (run_copy / "state.json").mkdir()
    with pytest.raises(RunFileError, match=r"state\.json"):
        va.load_run(run_copy)


@pytest.mark.parametrize(
    "rows",
    [[{"step": 0}], [{"epoch": "0"}], [{"epoch": 0}, {"epoch": 0}], [{"epoch": True}],
     [{"epoch": 0, "test_neg_elbo": "low"}], [{"epoch": 0, "lr": {"a": 1}}]],
    ids=["no epoch", "string epoch", "repeated epoch", "boolean epoch", "string value",
         "object value"],
)  # fmt: skip
def test_malformed_metrics_rows(run_copy, rows):
    (run_copy / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    with pytest.raises(RunFileError, match=r"metrics\.jsonl"):
        va.load_run(run_copy)


@pytest.mark.parametrize("command", ["evaluate", "report", "compare", "resume"])
def test_commands_give_one_line_for_a_nested_config(run_copy, tmp_path, capsys, command):
    (run_copy / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    argv = {
        "evaluate": ["evaluate", str(run_copy), "--no-write"],
        "report": ["report", str(run_copy), "--out", str(tmp_path / "r")],
        "compare": ["compare", str(run_copy), str(run_copy), "--out", str(tmp_path / "c")],
        "resume": ["train", "--resume", "--no-progress", "--out", str(run_copy)],
    }[command]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "config.json" in err, err


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "1" * 5000])
def test_report_summary_survives_a_hostile_evaluation_json(run_copy, text):
    from vae_atlas.report.scores import evaluation_rows

    (run_copy / "evaluation.json").write_text(text)
    rows = evaluation_rows(va.load_run(run_copy))
    assert list(rows) == ["evaluation.json"] and "unreadable" in rows["evaluation.json"]
