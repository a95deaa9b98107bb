"""How many training images does disentangling ``shapes`` need? MIG on validation images against
the number of images seen, from one long run per model.

Each model trains with ``disentanglement.py``'s recipe and objective flags (``--recipe``,
``--tc-beta``, ``--gamma``) through :func:`vae_atlas.training.train`, with a trainer that after
every ``--every`` images encodes the run's validation images (held out from training) and scores
MIG and each factor's gap on them. With a constant learning rate (the ``mlp`` recipe) each point
is what a run stopped there would score, so one run gives the whole curve. Images/s come from
the optimiser steps' own clock (scoring and the per-epoch held-out evaluation left out).

    python benchmarks/disentanglement_budget.py --out runs/budget --models vae beta-tcvae \\
        --seed 100 --epochs 4 --n-samples 250000 --val-size 5000 --every 50000
    python benchmarks/disentanglement_budget.py --out runs/budget --plot FILE   # draw the curves

Curves go to ``OUT/<model>-s<seed>.curve.jsonl`` (one JSON row per snapshot); a model whose
curve is complete is not trained again. Tune with seeds the reported table does not use.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from disentanglement import RECIPES, add_training_args, model_table  # benchmarks/ on sys.path
from vae_atlas.analysis.disentanglement import mig_per_factor
from vae_atlas.analysis.encode import encode_images
from vae_atlas.analysis.quality import kl_per_dim
from vae_atlas.cli import build_parser
from vae_atlas.cli.train import config_from_args, data_config_from_args
from vae_atlas.data import load_dataset
from vae_atlas.data.dataset import ImageSet, split_validation
from vae_atlas.data.shapes import SHAPES_FACTOR_NAMES, shape_factor_index
from vae_atlas.training import Trainer, train
from vae_atlas.training.objective_trainers import OBJECTIVE_TRAINERS

Snapshot = Callable[[torch.nn.Module, int, float], None]


def watching_trainer(base: type[Trainer], every: int, snapshot: Snapshot) -> type[Trainer]:
    """``base`` that calls ``snapshot(model, images_seen, step_seconds)`` each time the images
    seen pass a multiple of ``every``; ``step_seconds`` sums the optimiser steps alone."""

    class WatchingTrainer(base):  # type: ignore[misc, valid-type]
        seen, step_seconds = 0, 0.0

        def step(self, x: torch.Tensor):  # noqa: ANN201 - the base's LossTerms
            started = time.perf_counter()
            terms = super().step(x)
            self.step_seconds += time.perf_counter() - started
            before, self.seen = self.seen, self.seen + x.shape[0]
            if self.seen // every > before // every:
                snapshot(self.model, self.seen, self.step_seconds)
            return terms

    return WatchingTrainer


def score_snapshot(model: torch.nn.Module, val: ImageSet) -> dict[str, object]:
    """MIG, each factor's gap and the dimensions above 0.01 nats of KL, on ``val``."""
    latents = encode_images(model, val)
    gaps = mig_per_factor(latents.mu, shape_factor_index(val.factors.numpy()))
    return {
        "mig": float(np.nanmean(gaps)),
        "gaps": dict(zip(SHAPES_FACTOR_NAMES, np.round(gaps, 4).tolist(), strict=True)),
        "active": int((kl_per_dim(latents) > 0.01).sum()),
    }


def run_curve(name: str, args: argparse.Namespace) -> Path:
    """Train model ``name`` once, writing its curve; returns the curve file."""
    out = args.out / "-".join(filter(None, (name, args.tag, f"s{args.seed}")))
    curve = out.with_name(out.name + ".curve.jsonl")
    if curve.exists() and '"done"' in curve.read_text():
        return curve
    if out.exists():
        raise SystemExit(f"{out}: an unfinished run is there; remove it or choose another --out")
    model = model_table(args)[name]
    flags = [*RECIPES[args.recipe], "--epochs", str(args.epochs), "--n-samples",
             str(args.n_samples), "--val-size", str(args.val_size), "--seed", str(args.seed),
             "--threads", str(args.threads), *model.flags, *args.train_flags.split()]  # fmt: skip
    cli = build_parser().parse_args(["train", *flags, "--out", str(out)])
    dataset = load_dataset(data_config_from_args(cli, seed=args.seed))
    config = config_from_args(cli, dataset.image_shape)
    val = split_validation(dataset, val_size=config.data.val_size, seed=config.data.seed).val
    args.out.mkdir(parents=True, exist_ok=True)
    curve.write_text("")
    print(f"$ vae-atlas train {' '.join(flags)} --out {out}", flush=True)

    def snapshot(net: torch.nn.Module, seen: int, step_s: float) -> None:
        row = {"model": model.label, "images": seen, "step_s": round(step_s, 2),
               "images_per_s": round(seen / step_s, 1), **score_snapshot(net, val)}  # fmt: skip
        with curve.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    base = OBJECTIVE_TRAINERS.get(config.model.objective, Trainer)
    started = time.perf_counter()
    train(config, out, dataset=dataset, progress="lines",
          trainer_class=watching_trainer(base, args.every, snapshot))  # fmt: skip
    with curve.open("a") as f:
        f.write(json.dumps({"done": True, "wall_s": round(time.perf_counter() - started)}) + "\n")
    return curve


def read_curve(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if "images" in r]


def plot_curves(paths: list[Path], figure: Path) -> None:
    """MIG against images seen for every curve, then each curve's per-factor gaps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [(p.stem.removesuffix(".curve"), read_curve(p)) for p in paths]
    fig, axes = plt.subplots(1, 1 + len(curves), figsize=(4.2 * (1 + len(curves)), 3.6),
                             sharey=True, squeeze=False)  # fmt: skip
    for name, rows in curves:
        seen = [r["images"] / 1e6 for r in rows]
        rate = rows[-1]["images_per_s"]
        axes[0, 0].plot(seen, [r["mig"] for r in rows], marker="o", ms=3,
                        label=f"{rows[-1]['model']} ({name}, {rate:.0f} img/s)")  # fmt: skip
    axes[0, 0].axhspan(0.2, 0.4, color="0.9", label="papers' dSprites range")
    axes[0, 0].set_title("validation MIG (5 factors' mean gap)", fontsize=9)
    axes[0, 0].set(xlabel="million images seen", ylabel="MIG / gap")
    axes[0, 0].legend(fontsize=7)
    for ax, (name, rows) in zip(axes[0, 1:], curves, strict=True):
        seen = [r["images"] / 1e6 for r in rows]
        for factor in SHAPES_FACTOR_NAMES:
            ax.plot(seen, [r["gaps"][factor] for r in rows], label=factor)
        ax.set_title(f"{name}: MIG gap per factor", fontsize=9)
        ax.set_xlabel("million images seen")
        ax.legend(fontsize=7)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    print(f"figure: {figure}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/budget"))
    p.add_argument("--models", nargs="+", default=["vae", "beta-tcvae"])
    p.add_argument("--recipe", choices=tuple(RECIPES), default="mlp")
    p.add_argument("--seed", type=int, default=100, help="a tuning seed, not a reported one")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--n-samples", type=int, default=250_000, help="images generated (all splits)")
    p.add_argument("--val-size", type=int, default=5000)
    p.add_argument("--every", type=int, default=50_000, help="images between snapshots")
    p.add_argument("--tag", default="", help="put in the run names (e.g. b10 for a β)")
    add_training_args(p)
    p.add_argument("--plot", type=Path, help="draw the curves under --out into this file")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.plot is not None:
        plot_curves(sorted(args.out.glob("*.curve.jsonl")), args.plot)
        return
    known = model_table(args)
    unknown = sorted(set(args.models) - set(known))
    if unknown:
        raise SystemExit(f"--models: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    for name in args.models:
        run_curve(name, args)


if __name__ == "__main__":
    main()
