"""``vae-atlas compare RUN_A RUN_B ... --out DIR``: the same figures for several runs side by
side (e.g. AE vs VAE vs β-VAE on the same data)."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from vae_atlas.cli.flags import apply_level, check_out_dir, stage_line
from vae_atlas.cli.report import add_figure_options, options_from_args
from vae_atlas.cli.run_access import (
    add_run_data_arguments,
    data_access_from_args,
    device_from_args,
)
from vae_atlas.config import ConfigError
from vae_atlas.run import load_run
from vae_atlas.training.lock import locked_run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare several runs side by side in one report")
    p.add_argument("runs", type=Path, nargs="+", help="two or more run directories")
    p.add_argument("--out", type=Path, required=True, help="report folder to write")
    add_figure_options(p)
    add_run_data_arguments(p)
    p.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from vae_atlas.report import build_comparison

    if len(args.runs) < 2:
        raise ConfigError("compare needs at least two runs")
    options = options_from_args(args)
    check_out_dir(args.out)
    try:
        with ExitStack() as held:  # each run's projection cache is written into it
            for path in dict.fromkeys(p.resolve() for p in args.runs):
                held.enter_context(locked_run(path, "compare"))
            runs = [
                load_run(p, device=device_from_args(args), data=data_access_from_args(args))
                for p in args.runs
            ]
            apply_level([r.model for r in runs], args.level, [str(p) for p in args.runs])
            index = build_comparison(runs, args.out, options=options, progress=stage_line)
    except (ImportError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    print(f"comparison: {index}")
    return 0
