"""``vae-atlas report RUN``: write the latent-space atlas (HTML + PNG/GIF) of a run."""

from __future__ import annotations

import argparse
from pathlib import Path

from vae_atlas.cli.flags import add_level_flag, apply_level, check_out_dir, stage_line
from vae_atlas.cli.run_access import (
    add_run_data_arguments,
    data_access_from_args,
    device_from_args,
)
from vae_atlas.config import ConfigError
from vae_atlas.run import load_run
from vae_atlas.training.lock import locked_run


def add_figure_options(p: argparse.ArgumentParser) -> None:
    """Flags shared by ``report`` and ``compare``."""
    p.add_argument(
        "--projection",
        default="pca,umap",
        help="projections for latent spaces above 2-D, comma-separated from pca, "
        "tsne, umap (PCA is always drawn; t-SNE/UMAP take ~40 s on 10k points "
        "and are cached in RUN/cache)",
    )
    p.add_argument("--grid-size", type=int, default=15, help="cells per side of the decoded grid")
    p.add_argument(
        "--interpolate",
        nargs=2,
        metavar=("A", "B"),
        help="the two test inputs to interpolate between: indices or class names "
        "(default for digits: a 1 and a 7)",
    )
    p.add_argument("--steps", type=int, default=10, help="interpolation steps")
    p.add_argument(
        "--dims",
        type=int,
        nargs=2,
        metavar=("I", "J"),
        help="two latent dimensions (1-based, as z1..zD) for the clouds, the "
        "aggregate posterior and, above 2-D, the decoded grid "
        "(default: the two with the most KL / the top-2 principal directions)",
    )
    p.add_argument(
        "--grid-base",
        type=int,
        metavar="INDEX",
        help="test input whose code holds the grid's other coordinates (default: the mean code)",
    )
    p.add_argument(
        "--max-points",
        type=int,
        default=10_000,
        help="test inputs to encode and draw (a class-balanced subsample)",
    )
    p.add_argument("--no-gif", action="store_true", help="skip the animated GIFs (faster)")
    p.add_argument("--seed", type=int, default=0, help="seed of samples and subsampling")
    add_level_flag(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the latent-space atlas of a run (HTML + figures)")
    p.add_argument("run", type=Path, help="run directory")
    p.add_argument("--out", type=Path, help="report folder (default RUN/report)")
    p.add_argument(
        "--ood",
        nargs="+",
        default=[],
        metavar="DATASET",
        help="out-of-distribution sets to score against the test set: dataset "
        "names (shapes, digits, mnist, fashion-mnist), mnist:FOLDER or fashion-mnist:FOLDER "
        "for IDX files in FOLDER, or image folders (default: none)",
    )
    p.add_argument(
        "--attribute-classes",
        nargs=2,
        metavar=("FROM", "TO"),
        help="class names for the attribute direction (default 4 9 for digits)",
    )
    p.add_argument(
        "--attribute-csv",
        type=Path,
        help="CSV with a binary attribute per test image (one row per image, or an 'index' column)",
    )
    p.add_argument("--attribute-column", help="the CSV column to use")
    p.add_argument(
        "--attribute",
        nargs="+",
        metavar="NAME",
        dest="attributes",
        help="binary attributes of the run's dataset to draw directions for (default: all when "
        "there are at most six, else Smiling, Eyeglasses and others present)",
    )
    add_figure_options(p)
    add_run_data_arguments(p)
    p.set_defaults(handler=run_report)


# ReportOptions fields whose errors read better with the flag's name
OPTION_FLAGS = {
    "projections": "--projection",
    "grid_size": "--grid-size",
    "interpolation_steps": "--steps",
    "max_points": "--max-points",
}


def _index_or_name(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def options_from_args(args: argparse.Namespace):  # noqa: ANN201 - returns ReportOptions
    from vae_atlas.report import ReportOptions

    projections = tuple(m.strip() for m in args.projection.split(",") if m.strip())
    pair = tuple(_index_or_name(t) for t in args.interpolate) if args.interpolate else (None, None)
    try:
        return ReportOptions(
            projections=projections or ("pca",),
            grid_size=args.grid_size,
            interpolation=pair,
            interpolation_steps=args.steps,
            attribute_classes=tuple(getattr(args, "attribute_classes", None) or ()) or None,
            attribute_csv=getattr(args, "attribute_csv", None),
            attribute_column=getattr(args, "attribute_column", None),
            attributes=tuple(getattr(args, "attributes", None) or ()) or None,
            dims=None if args.dims is None else (args.dims[0] - 1, args.dims[1] - 1),
            grid_base=args.grid_base,
            max_points=args.max_points,
            gifs=not args.no_gif,
            seed=args.seed,
        )
    except ValueError as exc:
        text = str(exc)
        for field, flag in OPTION_FLAGS.items():
            text = text.replace(f"{field}=", f"{flag} ").replace(f"{field}:", f"{flag}:")
        raise ConfigError(text) from None


def run_report(args: argparse.Namespace) -> int:
    from vae_atlas.report import build_report

    options = options_from_args(args)
    if args.out is not None:
        check_out_dir(args.out)
    if args.attribute_csv is not None and not args.attribute_csv.exists():
        raise FileNotFoundError(f"{args.attribute_csv}: no such attribute CSV")
    try:
        with locked_run(args.run, "report"):  # its cache and default report folder are in RUN
            run = load_run(
                args.run, device=device_from_args(args), data=data_access_from_args(args)
            )
            apply_level([run.model], args.level, [str(args.run)])
            index = build_report(
                run, args.out, ood=args.ood or None, options=options, progress=stage_line
            )
    except ValueError as exc:  # e.g. an unknown class name for --interpolate
        raise ConfigError(str(exc)) from None
    print(f"report: {index}")
    return 0
