"""``vae-atlas demo``: a 2-D VAE on the bundled 8x8 digits, trained in seconds, offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from vae_atlas.cli.train import print_summary, set_threads
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import load_dataset
from vae_atlas.training import train

DEMO_CONFIG = RunConfig(
    data=DataConfig(name="digits"),
    model=ModelConfig(family="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden=(256, 128)),
    train=TrainConfig(
        epochs=150, batch_size=64, lr=2e-3, lr_final_fraction=0.1, warmup_epochs=10, probe_size=360
    ),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train a 2-D VAE on the bundled digits and show the result")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/demo"),
        help="run directory (a fresh suffix is added if it already holds a run)",
    )
    p.add_argument("--epochs", type=int, default=DEMO_CONFIG.train.epochs, help="epochs to train")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    p.add_argument(
        "--no-progress", action="store_true", help="one line per epoch instead of the progress bar"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for torch (the demo's model is tiny: 1 is fastest, and "
        "robust on a busy machine)",
    )
    p.set_defaults(handler=run_demo)


def fresh_dir(path: Path) -> Path:
    """``path`` if it holds no run yet, else ``path-2``, ``path-3``, ... (never overwrite a run)."""
    candidate, n = path, 1
    while (candidate / "config.json").exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def run_demo(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    from dataclasses import replace

    config = replace(DEMO_CONFIG, train=replace(DEMO_CONFIG.train, epochs=args.epochs))
    out = fresh_dir(args.out)
    print(f"training a 2-D VAE on scikit-learn's 8x8 digits into {out} ...")
    result = train(
        config,
        out,
        dataset=load_dataset(config.data),
        progress="lines" if args.no_progress else "bar",
    )
    print_summary(result)
    if not args.no_report:
        _report(out)
    return 0 if result.status == "complete" else 130


def _report(run_dir: Path) -> None:
    """Write the HTML atlas of the run."""
    from vae_atlas.report import build_report

    index = build_report(run_dir)
    print(f"report: {index}")
