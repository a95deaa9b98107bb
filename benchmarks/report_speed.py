"""Time the latent-space atlas per figure on real MNIST runs.

Targets (one ``VERDICT`` line each): a 2-D report on the 10,000 MNIST test images within 30 s,
and a 20-D report with t-SNE and UMAP within 3 minutes on a 2-core machine (cold cache);
projections are cached in RUN/cache and reused, so a second 20-D build is far faster.

The baseline, measured in the same process, is encoding the test set once (the unavoidable
work); every build is also printed as a ratio of it.

Prepare the runs (a few minutes each on 2 cores)::

    vae-atlas train --dataset mnist --data-dir ../shared/datasets/mnist --latent-dim 2 \\
        --epochs 5 --out runs/cmp-vae --no-progress
    vae-atlas train --dataset mnist --data-dir ../shared/datasets/mnist --latent-dim 20 \\
        --epochs 5 --out runs/cmp-vae20 --no-progress

then ``python benchmarks/report_speed.py runs/cmp-vae runs/cmp-vae20``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import verdict

TARGET_2D_S = 30.0
TARGET_20D_S = 180.0


def baseline_encode_seconds(run_dir: Path) -> float:
    from vae_atlas import load_run
    from vae_atlas.analysis import encode_images

    run = load_run(run_dir)
    test = run.dataset.test
    start = time.perf_counter()
    encode_images(run.model, test)
    return time.perf_counter() - start


def timed_build(run_dir: Path, out: Path, projections: tuple[str, ...]) -> tuple[float, dict]:
    from vae_atlas.report import ReportOptions, build_report

    start = time.perf_counter()
    build_report(run_dir, out, options=ReportOptions(projections=projections))
    seconds = time.perf_counter() - start
    return seconds, json.loads((out / "timings.json").read_text())


def print_timings(
    title: str, seconds: float, timings: dict, baseline: float, target: float
) -> bool:
    print(f"\n== {title}")
    for key, value in sorted(timings.items(), key=lambda kv: -kv[1]):
        if key != "total":
            print(f"  {key:<22} {value:8.2f} s")
    print(
        f"  {'whole build':<22} {seconds:8.2f} s   = {seconds / baseline:7.1f}x the encode baseline"
    )
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_2d", type=Path)
    parser.add_argument("run_20d", type=Path, nargs="?")
    args = parser.parse_args(argv)
    out_root = Path(tempfile.mkdtemp(prefix="report-speed-"))
    results = []
    try:
        base = baseline_encode_seconds(args.run_2d)
        print(f"baseline: encoding the test set of {args.run_2d} takes {base:.3f} s")
        seconds, timings = timed_build(args.run_2d, out_root / "r2", ("pca",))
        seconds = print_timings("2-D report", seconds, timings, base, TARGET_2D_S)
        results.append(
            verdict(
                f"2-D report <= {TARGET_2D_S:.0f} s", seconds <= TARGET_2D_S, f"{seconds:.1f} s"
            )
        )
        if args.run_20d is not None:
            shutil.rmtree(args.run_20d / "cache", ignore_errors=True)  # measure a cold cache
            base20 = baseline_encode_seconds(args.run_20d)
            methods = ("pca", "tsne", "umap")
            seconds, timings = timed_build(args.run_20d, out_root / "r20", methods)
            print_timings(
                "20-D report, PCA + t-SNE + UMAP (cold cache)",
                seconds,
                timings,
                base20,
                TARGET_20D_S,
            )
            warm, timings = timed_build(args.run_20d, out_root / "r20b", methods)
            print_timings(
                "20-D report again (projections read from RUN/cache)",
                warm,
                timings,
                base20,
                TARGET_20D_S,
            )
            print(f"  cache speed-up: {seconds / warm:.1f}x")
            results.append(
                verdict(
                    f"20-D report with t-SNE and UMAP, cold cache, <= {TARGET_20D_S:.0f} s",
                    seconds <= TARGET_20D_S,
                    f"{seconds:.1f} s; {warm:.1f} s from the cache",
                )
            )
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
