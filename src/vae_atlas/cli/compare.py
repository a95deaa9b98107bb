"""``vae-atlas compare RUN_A RUN_B ... --out DIR``: the same figures for several runs side by
side (e.g. AE vs VAE vs β-VAE on the same data)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vae_atlas.cli.flags import check_out_dir, stage_line
from vae_atlas.cli.report import add_figure_options, options_from_args
from vae_atlas.config import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare several runs side by side in one report")
    p.add_argument("runs", type=Path, nargs="+", help="two or more run directories")
    p.add_argument("--out", type=Path, required=True, help="report folder to write")
    add_figure_options(p)
    p.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from vae_atlas.report import build_comparison

    if len(args.runs) < 2:
        raise ConfigError("compare needs at least two runs")
    options = options_from_args(args)
    check_out_dir(args.out)
    try:
        index = build_comparison(args.runs, args.out, options=options, progress=stage_line)
    except (ImportError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    print(f"comparison: {index}")
    return 0
