"""Property-based fuzzing of run directories: whatever config.json / model.safetensors hold,
load_run either loads or raises RunFileError naming the file — never another exception."""

from __future__ import annotations

import json
import shutil
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vae_atlas as va
from vae_atlas.checkpoint import RunFileError
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    from tests.conftest import make_blobs_dataset

    cfg = RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(8,)),
        train=TrainConfig(epochs=1, probe_size=10),
    )
    out = tmp_path_factory.mktemp("good") / "run"
    va.train(cfg, out, dataset=make_blobs_dataset(), progress=False)
    return out


def copy(good_run, tmp_path):
    dst = tmp_path / "fuzzed"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(good_run, dst)
    return dst


def check(run_dir, name):
    try:
        va.load_run(run_dir)
    except RunFileError as exc:
        assert name in str(exc)


@FUZZ
@given(
    section=st.sampled_from(["data", "model", "train", None]),
    key=st.text(max_size=16),
    value=json_values,
)
def test_config_with_any_field_value(good_run, tmp_path, section, key, value):
    run_dir = copy(good_run, tmp_path)
    raw = json.loads((run_dir / "config.json").read_text())
    target = raw if section is None else raw[section]
    known = list(target)
    target[known[zlib.crc32(key.encode()) % len(known)] if key[:1].isalpha() else key] = value
    (run_dir / "config.json").write_text(json.dumps(raw))
    check(run_dir, "config.json")


@FUZZ
@given(payload=json_values)
def test_config_replaced_by_any_json(good_run, tmp_path, payload):
    run_dir = copy(good_run, tmp_path)
    (run_dir / "config.json").write_text(json.dumps(payload))
    check(run_dir, "config.json")


@FUZZ
@given(cut=st.integers(0, 400), flip=st.tuples(st.integers(0, 10**6), st.integers(1, 255)))
def test_damaged_weights(good_run, tmp_path, cut, flip):
    run_dir = copy(good_run, tmp_path)
    data = bytearray((run_dir / "model.safetensors").read_bytes())
    data[flip[0] % len(data)] ^= flip[1]
    (run_dir / "model.safetensors").write_bytes(bytes(data[: len(data) - cut]))
    check(run_dir, "model.safetensors")


@FUZZ
@given(payload=st.binary(max_size=300))
def test_random_metrics_lines(good_run, tmp_path, payload):
    run_dir = copy(good_run, tmp_path)
    (run_dir / "metrics.jsonl").write_bytes(payload)
    check(run_dir, "metrics.jsonl")


def test_fuzzing_is_derandomized():
    """Every run draws the same examples, so a failure found once is found again."""
    assert settings.default.derandomize is True
    assert settings.default.database is None
    assert FUZZ.derandomize is True


# nested and oversized values: deep nesting past the parser's recursion limit, integers past
# Python's 4,300-digit conversion limit, huge and non-finite numbers, very long strings
deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
big_int = st.integers(1, 6000).map(lambda n: "9" * n)
big_float = st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "1e-400", "1" + "0" * 400])
long_text = st.integers(0, 100_000).map(lambda n: json.dumps("x" * n))
oversized = deep | big_int | big_float | long_text


@FUZZ
@given(
    section=st.sampled_from(["data", "model", "train", None]),
    pick=st.integers(0, 50),
    raw_value=oversized,
)
def test_config_field_with_nested_or_oversized_value(good_run, tmp_path, section, pick, raw_value):
    run_dir = copy(good_run, tmp_path)
    raw = json.loads((run_dir / "config.json").read_text())
    target = raw if section is None else raw[section]
    key = sorted(target)[pick % len(target)]
    target[key] = "__VALUE__"
    text = json.dumps(raw).replace('"__VALUE__"', raw_value)
    (run_dir / "config.json").write_text(text)
    check(run_dir, "config.json")


@FUZZ
@given(name=st.sampled_from(["state.json", "metrics.jsonl"]), raw_value=oversized)
def test_state_and_metrics_with_nested_or_oversized_values(good_run, tmp_path, name, raw_value):
    run_dir = copy(good_run, tmp_path)
    if name == "state.json":
        text = '{"status": "complete", "epochs_completed": ' + raw_value + "}"
    else:
        text = '{"epoch": 0}\n{"epoch": ' + raw_value + ', "lr": ' + raw_value + "}\n{}\n"
    (run_dir / name).write_text(text)
    check(run_dir, name)


@FUZZ
@given(
    key=st.sampled_from(["epoch", "step", "test_neg_elbo", "lr", "test_kl_per_dim", "seconds"]),
    value=json_values,
)
def test_metrics_row_with_any_value(good_run, tmp_path, key, value):
    run_dir = copy(good_run, tmp_path)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rows[-1][key] = value
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    try:
        run = va.load_run(run_dir)
    except RunFileError as exc:
        assert "metrics.jsonl" in str(exc)
        return
    # what loads is what every reader relies on: increasing integer epochs, numeric values
    epochs = [row["epoch"] for row in run.metrics]
    assert all(type(e) is int for e in epochs) and epochs == sorted(set(epochs))
