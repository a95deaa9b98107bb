"""Choose the default training recipe on the validation split, never on test.

Trains the speed benchmark's model (784-512-20 Bernoulli MLP VAE, batch 128) on MNIST's 55,000
training images with each learning-rate recipe of a small grid and several seeds, and ranks the
recipes by held-out −ELBO on the 5,000 validation images after ``--epochs`` epochs (the cosine
horizon) and one epoch earlier. The test −ELBO is printed beside it for information only.

Target: the recipe of :class:`vae_atlas.config.TrainConfig` (lr, lr_final_fraction) has the
lowest median validation −ELBO of the grid after ``--epochs`` epochs.

Usage::

    python benchmarks/recipe_sweep.py [--epochs 6] [--seeds 0 1 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from _common import MNIST_DIR, print_table, verdict  # benchmarks/ is on sys.path
from vae_atlas import train
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import load_dataset

MODEL = ModelConfig(image_shape=(1, 28, 28), latent_dim=20, hidden=(512,))
# (lr, lr_final_fraction): pythae's constant 1e-3, and cosine decays to 5 % around the default
GRID = ((1e-3, 1.0), (2e-3, 0.05), (3e-3, 0.05), (4e-3, 0.05), (5e-3, 0.05), (7e-3, 0.05))


def sweep(
    data_cfg: DataConfig, grid: list[tuple[float, float]], seeds: list[int], epochs: int
) -> dict[tuple[float, float], list[dict]]:
    """Per recipe, each seed's metrics rows (epoch 0 = untrained)."""
    data = load_dataset(data_cfg)
    results: dict[tuple[float, float], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="recipe_sweep_") as tmp:
        for lr, final in grid:
            for seed in seeds:
                train_cfg = TrainConfig(
                    epochs=epochs, lr=lr, lr_final_fraction=final, seed=seed, device="cpu"
                )
                cfg = RunConfig(data=data_cfg, model=MODEL, train=train_cfg)
                t0 = time.perf_counter()
                out = Path(tmp) / f"lr{lr:g}-f{final:g}-s{seed}"
                rows = train(cfg, out, dataset=data, progress=False).metrics
                results.setdefault((lr, final), []).append(rows)
                print(
                    f"lr {lr:g} to {final:g}x, seed {seed}: val -ELBO "
                    + " ".join(f"{r['val_neg_elbo']:.2f}" for r in rows[1:])
                    + f"  ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    return results


def summarise(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]"


def report(results: dict[tuple[float, float], list[dict]], epochs: int) -> bool:
    header = ["recipe (batch 128)", f"val -ELBO ep {epochs - 1}", f"val -ELBO ep {epochs}"]
    table = [[*header, f"test -ELBO ep {epochs} (info)"]]
    medians = {}
    for (lr, final), runs in results.items():
        schedule = "constant" if final == 1.0 else f"cosine to {final:g}x"
        val = [[run[e]["val_neg_elbo"] for run in runs] for e in (epochs - 1, epochs)]
        test = [run[epochs]["test_neg_elbo"] for run in runs]
        medians[(lr, final)] = statistics.median(val[1])
        table.append(
            [f"Adam {lr:g} {schedule}", summarise(val[0]), summarise(val[1]), summarise(test)]
        )
    print()
    print_table(table)
    print("(median [min, max] over seeds; nats per image)")
    default = (TrainConfig().lr, TrainConfig().lr_final_fraction)
    best = min(medians, key=medians.get)
    if default not in medians:
        print(f"the default recipe {default} is not in the grid")
        return False
    return verdict(
        "default recipe has the lowest median validation -ELBO",
        best == default,
        f"default lr {default[0]:g}: {medians[default]:.2f} nats; best lr {best[0]:g} "
        f"({'constant' if best[1] == 1.0 else f'cosine to {best[1]:g}x'}): {medians[best]:.2f}",
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=MNIST_DIR)
    p.add_argument("--epochs", type=int, default=6, help="the cosine horizon")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lrs", type=float, nargs="+", help="cosine learning rates (default: grid)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write every run's metrics here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    grid = list(GRID) if args.lrs is None else [(lr, 0.05) for lr in args.lrs]
    data_cfg = DataConfig(name="mnist", data_dir=str(args.data_dir))  # 55,000 / 5,000 / 10,000
    results = sweep(data_cfg, grid, args.seeds, args.epochs)
    ok = report(results, args.epochs)
    if args.json:
        args.json.write_text(json.dumps({f"{k[0]:g},{k[1]:g}": v for k, v in results.items()}))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
