"""``--device cuda`` end to end and mixed precision on a GPU: train (fp32, bf16, fp16 with its
GradScaler), report and evaluate. Every test here skips, saying why, on a machine without CUDA;
``benchmarks/gpu_check.py`` runs them on one."""

from __future__ import annotations

import math

import pytest
import torch

import vae_atlas as va
from vae_atlas.checkpoint import read_header
from vae_atlas.cli import main

from ..tiny_runs import tiny_config, train_quietly

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
TINY = ["--dataset", "digits", "--hidden", "32", "--latent-dim", "2", "--epochs", "2"]


def test_cli_trains_on_cuda_and_the_run_loads_anywhere(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY, "--device", "cuda", "--quiet"]) == 0
    run = va.load_run(out)  # weights saved from the GPU load on the CPU
    assert run.config.train.device == "cuda"
    assert math.isfinite(run.metrics[-1]["test_neg_elbo"])
    assert run.metrics[-1]["test_neg_elbo"] < run.metrics[0]["test_neg_elbo"]


def test_report_and_evaluate_run_on_the_gpu(tmp_path):
    from vae_atlas.analysis.evaluation import evaluate_run
    from vae_atlas.report import build_report

    out = train_quietly(tiny_config(epochs=2, device="cuda"), tmp_path / "run")
    run = va.load_run(out, device="cuda")
    assert next(run.model.parameters()).device.type == "cuda"
    result = evaluate_run(run, quick=True)
    assert math.isfinite(result.iwae_nll) and result.iwae_nll <= result.neg_elbo + 0.5
    index = build_report(run, tmp_path / "report")
    assert index.is_file() and index.stat().st_size > 1000


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_close_to_fp32(tmp_path, precision):
    ref = va.load_run(train_quietly(tiny_config(epochs=3, device="cuda"), tmp_path / "fp32"))
    cfg = tiny_config(epochs=3, device="cuda", precision=precision)
    run = va.load_run(train_quietly(cfg, tmp_path / precision))
    assert run.config.train.precision == precision
    a, b = ref.metrics[-1]["test_neg_elbo"], run.metrics[-1]["test_neg_elbo"]
    assert math.isfinite(b)
    assert abs(a - b) / a < 0.05, (a, b)  # same seed and recipe: within 5 % of fp32


def test_fp16_resume_continues_from_the_saved_run(tmp_path):
    cfg = tiny_config(epochs=2, device="cuda", precision="fp16")
    out = train_quietly(cfg, tmp_path / "run")
    longer = tiny_config(epochs=3, device="cuda", precision="fp16")
    _, meta = read_header(out / "checkpoint.safetensors")
    assert meta["scaler"]["scale"] > 0  # the loss scale a resumed run continues from
    result = va.train(longer, out, progress=False, log=lambda _: None, resume=True)
    assert result.status == "complete" and result.epochs_completed == 3


def test_compiled_training_matches_eager_on_the_gpu(tmp_path):
    eager = va.load_run(train_quietly(tiny_config(epochs=2, device="cuda"), tmp_path / "eager"))
    cfg = tiny_config(epochs=2, device="cuda", compile=True)
    compiled = va.load_run(train_quietly(cfg, tmp_path / "compiled"))
    a, b = eager.metrics[-1]["test_neg_elbo"], compiled.metrics[-1]["test_neg_elbo"]
    assert b == pytest.approx(a, rel=1e-3)  # the same maths, fused kernels


def test_report_evaluate_and_explorer_commands_take_device_cuda(tmp_path):
    from fastapi.testclient import TestClient

    from vae_atlas.explorer import create_app

    out = train_quietly(tiny_config(epochs=1, device="cuda"), tmp_path / "run")
    assert main(["report", str(out), "--device", "cuda", "--no-gif"]) == 0
    assert main(["evaluate", str(out), "--device", "cuda", "--quick"]) == 0
    run = va.load_run(out, device="cuda")
    client = TestClient(create_app([run]))
    run_id = client.get("/api/runs").json()[0]["id"]
    r = client.post(f"/api/runs/{run_id}/decode", json={"z": [[0.0, 0.0]], "format": "array"})
    assert r.status_code == 200, r.text  # the server-side decode ran on the GPU model
