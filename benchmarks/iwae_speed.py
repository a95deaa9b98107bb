"""How long does IWAE k=5,000 over the 10,000 MNIST test images take? (Burda et al. 2016 model)

Measures :func:`vae_atlas.analysis.likelihood.iwae_nll_per_image` on ``--images`` binarised MNIST
test images (from ``--data-dir``) and extrapolates linearly to 10,000 (the cost is linear in
images × k). Also measures, in the same process, the float32 GEMM rate of this machine and prints
the arithmetic floor of the decoder's matrix products at that rate, so the ratio time / floor is
comparable across machines and loads.

    python benchmarks/iwae_speed.py                     # untrained 784-200-200-50 model
    python benchmarks/iwae_speed.py --run runs/burda    # a trained run (same speed)
    python benchmarks/iwae_speed.py --images 100 --rows 8192 16384 32768 --threads 2

Target (its ``VERDICT`` line): the fastest ``--rows`` setting extrapolates to under 5 minutes.
"""

from __future__ import annotations

import argparse
import time

import torch

from _common import MNIST_DIR, verdict  # benchmarks/ is on sys.path
from reproduce_burda import BURDA_MODEL
from vae_atlas.analysis.likelihood import binarize, iwae_nll_per_image
from vae_atlas.config import DataConfig, ModelConfig
from vae_atlas.data import load_dataset
from vae_atlas.models import build_model

BURDA = BURDA_MODEL  # the model reproduce_burda.py trains


def gemm_rate(n: int = 2048, repeats: int = 5) -> float:
    """Measured float32 matrix-multiply rate in FLOP/s (best of ``repeats``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def decoder_flops_per_sample(cfg: ModelConfig) -> float:
    """2·(multiply-adds) of the decoder MLP for one code, e.g. 784-200-200-50 -> ~4.1e5."""
    widths = [cfg.latent_dim, *reversed(cfg.hidden), 784]
    return 2.0 * sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", help="a trained run directory (default: an untrained Burda model)")
    p.add_argument("--images", type=int, default=40, help="images actually scored")
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--rows", type=int, nargs="+", default=[2048, 4096, 8192, 32768])
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--data-dir", default=str(MNIST_DIR))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.run:
        from vae_atlas import load_run

        model, cfg = load_run(args.run).model, None
    else:
        torch.manual_seed(0)
        model, cfg = build_model(BURDA).eval(), BURDA
    # real test digits: the logistic-form decoder recomputes rows a model finds near-impossible,
    # so noise images would time a path that real data hardly takes
    test = load_dataset(DataConfig(name="mnist", data_dir=args.data_dir)).test
    x = binarize(test.images[: args.images].float() / 255, seed=0)
    rate = gemm_rate()
    floor = 10_000 * 5000 * decoder_flops_per_sample(cfg or BURDA) / rate
    print(
        f"threads {args.threads}; float32 GEMM rate {rate / 1e9:.0f} GFLOP/s; "
        f"decoder-GEMM floor for 10,000 images x k=5,000: {floor:.0f} s"
    )
    best = float("inf")
    for rows in args.rows:
        iwae_nll_per_image(model, x[:2], k=min(args.k, 500), rows=rows)  # warm-up
        t0 = time.perf_counter()
        iwae_nll_per_image(model, x, k=args.k, rows=rows)
        dt = time.perf_counter() - t0
        full = dt * (10_000 / args.images) * (5000 / args.k)
        print(
            f"rows {rows:>6}: {args.images} images x k={args.k} in {dt:.2f} s -> "
            f"10,000 x 5,000 extrapolated {full / 60:.1f} min ({full / floor:.2f} x floor)"
        )
        best = min(best, full)
    verdict(
        "IWAE k=5,000 on the 10,000 MNIST test images < 5 min",
        best < 300,
        f"{best / 60:.1f} min extrapolated from {args.images} images, {args.threads} threads",
    )


if __name__ == "__main__":
    main()
