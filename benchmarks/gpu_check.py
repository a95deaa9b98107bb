"""One prepared check for a CUDA machine: the test suite's CUDA-marked tests, then training
throughput of two models at fp32 and bf16 against the GPU's own dense matmul rate.

    python benchmarks/gpu_check.py [--out gpu_check.json] [--skip-tests] [--steps 50]

1. ``pytest -m cuda tests/`` (train, report and evaluate on ``--device cuda``; fp16 and bf16
   autocast); their pass/fail count is printed.
2. For each model — the MLP MNIST VAE (784-512-256-20, Bernoulli) at batch 1024 and a conv VAE
   on 64×64 RGB images (32-64-128 channels, 32-D) at batch 256 — and each precision (fp32,
   bf16), the loop's own :meth:`vae_atlas.training.Trainer.step` is timed on random uint8 images
   already on the GPU (throughput does not depend on the pixels), after warm-up steps, with a
   device synchronise around the timed block. FLOPs of one step are counted by
   ``torch.utils.flop_counter.FlopCounterMode`` (forward and backward matmuls/convolutions), so
   the achieved rate is steps·FLOPs/s.
3. The dense matmul rate of the same GPU, measured in the same run: the best of several
   8192×8192 ``torch.mm`` calls in bf16 and in fp32 (TF32 off, PyTorch's default). Each model's
   achieved rate is printed as a fraction of the rate of its precision.

Target (issue 13 §5): the MLP at bf16 with batch ≥ 1024 reaches ≥ 50 % of the bf16 matmul rate.
One ``VERDICT`` line per target; every number also goes to ``--out`` as JSON with the GPU's name.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def run_cuda_tests() -> dict[str, object]:
    """The CUDA-marked tests, as a user would run them; returns the exit code and last line."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider", "tests/"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    print(proc.stdout[-4000:])
    return {"returncode": proc.returncode, "summary": lines[-1] if lines else ""}


def matmul_rate(dtype: torch.dtype, n: int = 8192, repeats: int = 10) -> float:
    """Best dense n×n matmul rate in FLOP/s for ``dtype`` on the current GPU."""
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        torch.mm(a, b)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def model_configs() -> dict[str, tuple[object, int]]:
    from vae_atlas.config import ModelConfig

    return {
        "mlp-mnist": (
            ModelConfig(family="mlp", image_shape=(1, 28, 28), latent_dim=20, hidden=(512, 256)),
            1024,
        ),
        "conv-64-rgb": (
            ModelConfig(family="conv", image_shape=(3, 64, 64), latent_dim=32),
            256,
        ),
    }


def time_training(model_cfg: object, batch: int, precision: str, steps: int) -> dict[str, float]:
    """images/s and achieved FLOP/s of ``Trainer.step`` for one model and precision."""
    from torch.utils.flop_counter import FlopCounterMode

    from vae_atlas.config import RunConfig, TrainConfig
    from vae_atlas.models import build_model
    from vae_atlas.training import Trainer

    train_cfg = TrainConfig(batch_size=batch, device="cuda", precision=precision, epochs=1)
    config = RunConfig(model=model_cfg, train=train_cfg)
    torch.manual_seed(0)
    model = build_model(model_cfg).cuda()
    gen = torch.Generator(device="cuda").manual_seed(0)
    shape = (batch * 4, *model_cfg.image_shape)
    images = torch.randint(0, 256, shape, device="cuda", dtype=torch.uint8).float() / 255
    trainer = Trainer(model, images, config, gen, device=torch.device("cuda"))
    trainer.position.sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "images": 0.0}
    x = images[:batch]
    with FlopCounterMode(display=False) as counter:
        trainer.step(x)
    flops = counter.get_total_flops()
    for _ in range(10):
        trainer.step(x)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(steps):
        trainer.step(images[(i % 4) * batch : (i % 4 + 1) * batch])
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return {"images_per_s": steps * batch / seconds, "flops_per_s": steps * flops / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check (this script is for a GPU machine)")
        return 2
    report: dict[str, object] = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
    print(f"GPU: {report['gpu']}, torch {report['torch']}")
    if not args.skip_tests:
        report["cuda_tests"] = run_cuda_tests()
    peaks = {"fp32": matmul_rate(torch.float32), "bf16": matmul_rate(torch.bfloat16)}
    report["matmul_tflops"] = {k: v / 1e12 for k, v in peaks.items()}
    print(f"dense matmul: fp32 {peaks['fp32'] / 1e12:.1f} TFLOP/s, bf16 {peaks['bf16'] / 1e12:.1f}")
    rows = []
    for name, (model_cfg, batch) in model_configs().items():
        for precision in ("fp32", "bf16"):
            r = time_training(model_cfg, batch, precision, args.steps)
            frac = r["flops_per_s"] / peaks[precision]
            rows.append(
                {"model": name, "batch": batch, "precision": precision, **r}
                | {"fraction_of_matmul": frac}
            )
            print(
                f"{name:12s} batch {batch:5d} {precision}: {r['images_per_s']:12,.0f} images/s, "
                f"{r['flops_per_s'] / 1e12:6.2f} TFLOP/s = {frac:6.1%} of {precision} matmul"
            )
    report["training"] = rows
    mlp_bf16 = next(r for r in rows if r["model"] == "mlp-mnist" and r["precision"] == "bf16")
    ok = mlp_bf16["fraction_of_matmul"] >= 0.5
    print(
        f"VERDICT mlp bf16 batch 1024 >= 50% of bf16 matmul rate: {'PASS' if ok else 'FAIL'} "
        f"({mlp_bf16['fraction_of_matmul']:.1%})"
    )
    if "cuda_tests" in report:
        tests_ok = report["cuda_tests"]["returncode"] == 0  # type: ignore[index]
        print(f"VERDICT CUDA tests pass: {'PASS' if tests_ok else 'FAIL'}")
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
