"""Several processes on one machine: 2 gloo ranks × 1 thread against 1 process × 2 threads.

Both sides train the same model (the default MLP VAE, 784-512-256-20, Bernoulli) on the same
global batch (``--batch-size``, default 128) with the same seed, through the real CLI:

- ``vae-atlas train --threads 2`` (one process);
- ``torchrun --standalone --nproc-per-node 2 -m vae_atlas.cli train --threads 1``.

*Time per epoch* is the ``seconds`` field of ``metrics.jsonl`` (the training steps of the epoch,
not the held-out evaluation or the checkpoint), median over the epochs after the first; the two
sides run in alternating order over ``--repeats``.

*Share of a step spent in all-reduce*: under torchrun, each rank times blocks of DDP training
steps on its 64-image slice with gradient synchronisation and blocks without it
(``DistributedDataParallel.no_sync``), alternating, best of 7; the share is
(t_sync − t_no_sync) / t_sync. The single-process step on the whole batch with 2 threads is timed
the same way, so the table also shows what is left once communication is taken out: how well
one thread on half the batch does against two threads on all of it. The same step timings at a
global batch of 512 follow as one extra line (informative; the verdict is on ``--batch-size``).

Target: 2 ranks reach ≥ 0.8× the 1-process throughput. The ``ranks`` section of
``benchmarks/scale.py`` (``--steps-only``: the step timings alone, about a minute, with the
verdict on steps per second); this file runs directly only as the torchrun worker of the step
timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from _common import print_table, verdict  # benchmarks/ is on sys.path

MODEL_FLAGS = ["--latent-dim", "20", "--hidden", "512,256"]
LARGER_BATCH = 512


def train_args(data_dir: Path, out: Path, epochs: int, batch: int, threads: int) -> list[str]:
    return [
        "train", "--dataset", "mnist", "--data-dir", str(data_dir), *MODEL_FLAGS,
        "--epochs", str(epochs), "--batch-size", str(batch), "--threads", str(threads),
        "--probe-size", "200", "--no-progress", "--out", str(out),
    ]  # fmt: skip


def torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
            "2", *args]  # fmt: skip


def epoch_seconds(run: Path) -> list[float]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [row["seconds"] for row in rows if row["epoch"] >= 1]


def time_training(args: argparse.Namespace, scratch: Path) -> dict[str, list[float]]:
    """Per-epoch seconds of each side, epochs after the first, all repeats together."""
    sides = {
        "1 process x 2 threads": lambda out: [
            sys.executable,
            "-m",
            "vae_atlas.cli",
            *train_args(args.data_dir, out, args.epochs, args.batch_size, 2),
        ],  # fmt: skip
        "2 ranks x 1 thread": lambda out: torchrun(
            "-m", "vae_atlas.cli", *train_args(args.data_dir, out, args.epochs, args.batch_size, 1)
        ),
    }
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for repeat in range(args.repeats):
        order = list(sides) if repeat % 2 == 0 else list(sides)[::-1]
        for name in order:
            out = scratch / f"{name.split()[0]}-{repeat}"
            subprocess.run(sides[name](out), check=True, stdout=subprocess.DEVNULL)
            seconds[name] += epoch_seconds(out)[1:]
            shutil.rmtree(out)
    return seconds


def step_profile(batch: int, blocks: int = 7, steps: int = 20) -> dict[str, float]:
    """Seconds per step, best block of ``blocks``: under torchrun with and without gradient
    synchronisation on this rank's slice; in one process on the whole batch."""
    from vae_atlas.config import ModelConfig
    from vae_atlas.models import build_model
    from vae_atlas.training.distributed import (
        context_from_env,
        loss_scale,
        process_group,
        rank_slice,
    )
    from vae_atlas.training.distributed_trainer import wrap_model

    ctx = context_from_env()
    cpu = torch.device("cpu")
    with process_group(ctx, cpu):
        torch.manual_seed(0)
        model = build_model(ModelConfig(latent_dim=20, hidden=(512, 256)))
        net = wrap_model(model, ctx, cpu) if ctx.distributed else None
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
        gen = torch.Generator().manual_seed(ctx.rank)
        x = rank_slice(torch.rand(batch, 1, 28, 28, generator=gen).round(), ctx)  # (b, 1, 28, 28)
        scale = loss_scale(x.shape[0], batch, ctx.world_size)

        def block(sync: bool) -> float:
            t0 = time.perf_counter()
            for _ in range(steps):
                opt.zero_grad(set_to_none=True)
                if net is None:
                    model.loss(x, generator=gen).loss.backward()
                elif sync:
                    net(x, kl_weight=1.0, capacity=0.0, k=1, generator=gen, scale=scale)[
                        0
                    ].backward()
                else:
                    with net.no_sync():
                        net(x, kl_weight=1.0, capacity=0.0, k=1, generator=gen, scale=scale)[
                            0
                        ].backward()
                opt.step()
            return (time.perf_counter() - t0) / steps

        block(True)  # warm-up (allocations, DDP's first-iteration bucket rebuild)
        times: dict[str, list[float]] = {"sync": [], "no_sync": []}
        for _ in range(blocks):
            times["sync"].append(block(True))
            if net is not None:
                # both ranks leave no_sync together: the next synchronised step reduces once
                times["no_sync"].append(block(False))
        return {k: min(v) for k, v in times.items() if v}


def profile_steps(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Run :func:`step_profile` under torchrun (2 ranks × 1 thread) and in this process."""
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        cmd = torchrun(__file__, "--profile-into", tmp.name, "--batch-size", str(args.batch_size))
        subprocess.run(cmd, check=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
        ranks = json.loads(Path(tmp.name).read_text())
    torch.set_num_threads(2)
    return {"2 ranks x 1 thread": ranks, "1 process x 2 threads": step_profile(args.batch_size)}


def print_larger_batch(args: argparse.Namespace) -> None:
    """One extra line: the same step timings at a global batch of ``LARGER_BATCH``, where
    the per-step costs that do not grow with the batch (Adam over every weight on each rank,
    the all-reduce of every gradient) are spread over four times the images."""
    if args.batch_size == LARGER_BATCH:
        return
    profile = profile_steps(argparse.Namespace(batch_size=LARGER_BATCH))
    sync, single = profile["2 ranks x 1 thread"], profile["1 process x 2 threads"]["sync"]
    print(
        f"at global batch {LARGER_BATCH}: 1 process x 2 threads {single * 1e3:.2f} ms / step, "
        f"2 ranks x 1 thread {sync['sync'] * 1e3:.2f} ms ({sync['no_sync'] * 1e3:.2f} ms "
        f"without all-reduce): {single / sync['sync']:.2f}x"
    )


def report_steps(profile: dict[str, dict[str, float]]) -> int:
    """The step table alone, and the verdict on step throughput (global batch per second)."""
    sync, single = profile["2 ranks x 1 thread"], profile["1 process x 2 threads"]["sync"]
    share = (sync["sync"] - sync["no_sync"]) / sync["sync"]
    print_table([["side", "s / step", "s / step without all-reduce"],
                 ["1 process x 2 threads", f"{single * 1e3:.2f} ms", "-"],
                 ["2 ranks x 1 thread", f"{sync['sync'] * 1e3:.2f} ms",
                  f"{sync['no_sync'] * 1e3:.2f} ms"]])  # fmt: skip
    ratio = single / sync["sync"]
    met = verdict(
        "2 ranks x 1 thread >= 0.8x the step throughput of 1 process x 2 threads",
        ratio >= 0.8,
        f"{ratio:.2f}x; all-reduce {share:.0%} of a step; a rank's step without it "
        f"{sync['no_sync'] / single:.2f}x the 1-process step",
    )
    return 0 if met else 1


def section(args: argparse.Namespace) -> bool:
    """The ``ranks`` section of benchmarks/scale.py: its table and verdict; True when met."""
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, global batch {args.batch_size}")
    profile = profile_steps(args)
    print_larger_batch(args)
    if args.steps_only:
        return report_steps(profile) == 0
    with tempfile.TemporaryDirectory() as scratch:
        seconds = time_training(args, Path(scratch))
    one, two = (statistics.median(seconds[k]) for k in seconds)
    sync = profile["2 ranks x 1 thread"]
    share = (sync["sync"] - sync["no_sync"]) / sync["sync"]
    single = profile["1 process x 2 threads"]["sync"]
    rows = [["side", "s / epoch (median)", "epochs", "s / step", "s / step without all-reduce"]]
    rows.append(["1 process x 2 threads", f"{one:.2f}", str(len(seconds["1 process x 2 threads"])),
                 f"{single * 1e3:.2f} ms", "-"])  # fmt: skip
    rows.append(["2 ranks x 1 thread", f"{two:.2f}", str(len(seconds["2 ranks x 1 thread"])),
                 f"{sync['sync'] * 1e3:.2f} ms", f"{sync['no_sync'] * 1e3:.2f} ms"])  # fmt: skip
    print_table(rows)
    print(
        f"all-reduce share of a 2-rank step: {share:.1%}; a rank's step without it takes "
        f"{sync['no_sync'] / single:.2f}x the 1-process step"
    )
    ratio = one / two
    return verdict(
        "2 ranks x 1 thread >= 0.8x the throughput of 1 process x 2 threads",
        ratio >= 0.8,
        f"{ratio:.2f}x; all-reduce {share:.0%} of a step",
    )


def worker() -> int:
    """Under torchrun: time this rank's steps; rank 0 writes them to ``--profile-into``."""
    p = argparse.ArgumentParser()
    p.add_argument("--profile-into", type=Path, required=True)
    p.add_argument("--batch-size", type=int, required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    result = step_profile(args.batch_size)
    if int(os.environ.get("RANK", "0")) == 0:
        args.profile_into.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(worker())
