"""``vae-atlas evaluate RUN``: likelihood, latent quality and disentanglement numbers of a run.

Prints a table and writes ``RUN/evaluation.json`` (atomically). The numbers come from
:func:`vae_atlas.analysis.evaluation.evaluate_run`, which is also the Python API.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

from vae_atlas.analysis.evaluation import EvaluationSettings, evaluate_run
from vae_atlas.analysis.evaluation_file import (
    EvaluationResult,
    evaluation_table,
    write_evaluation,
)
from vae_atlas.cli.flags import add_level_flag, apply_level
from vae_atlas.cli.run_access import (
    add_run_data_arguments,
    data_access_from_args,
    device_from_args,
)
from vae_atlas.config import ConfigError
from vae_atlas.run import load_run
from vae_atlas.training.lock import locked_run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="likelihood, latent-quality and disentanglement numbers of a run",
    )
    p.add_argument("run", type=Path, help="run directory")
    p.add_argument("--k", type=int, default=None,
                   help="importance samples for -log p(x) (default 5000, --quick 100)")  # fmt: skip
    p.add_argument("--quick", action="store_true",
                   help="small k, 1,000 test images, fewer disentanglement samples")  # fmt: skip
    p.add_argument(
        "--max-images", type=int, help="evaluate at most this many test images (default: all)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the importance samples")
    p.add_argument("--no-write", action="store_true", help="print only; do not write the JSON")
    add_level_flag(p)
    add_run_data_arguments(p)
    p.set_defaults(handler=run_evaluate)


def settings_from_args(args: argparse.Namespace) -> EvaluationSettings:
    if args.k is not None and args.k < 1:
        raise ConfigError(f"--k {args.k} must be >= 1")
    if args.max_images is not None and args.max_images < 2:
        raise ConfigError(f"--max-images {args.max_images} must be >= 2")
    from dataclasses import replace

    base = (
        EvaluationSettings.quick(seed=args.seed)
        if args.quick
        else EvaluationSettings(seed=args.seed)
    )
    if args.k is not None:
        base = replace(base, k=args.k)
    if args.max_images is not None:
        base = replace(base, max_test_images=args.max_images)
    return base


def run_evaluate(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    # one writer per run: the JSON must describe the weights that were evaluated
    with nullcontext() if args.no_write else locked_run(args.run, "evaluate"):
        return _evaluate(args, settings)


def _evaluate(args: argparse.Namespace, settings: EvaluationSettings) -> int:
    run = load_run(args.run, device=device_from_args(args), data=data_access_from_args(args))
    apply_level([run.model], args.level, [str(args.run)])
    print(f"evaluating {run.path} (k={settings.k}, "
          f"{'all' if settings.max_test_images is None else settings.max_test_images} "
          "test images) ...", file=sys.stderr)  # fmt: skip
    result = evaluate_run(run, settings=settings, log=lambda line: print(line, file=sys.stderr))
    print(format_table(result))
    if args.no_write:
        return 0
    if getattr(run.model, "level_name", "top") != "top":
        # the report and the explorer read evaluation.json as the default (top) level's numbers
        print(f"not written: {run.path / 'evaluation.json'} keeps the top level's numbers; "
              f"--level {run.model.level_name} only prints them")  # fmt: skip
        return 0
    print(f"wrote {write_evaluation(result, run.path)}")
    return 0


def format_table(r: EvaluationResult) -> str:
    """A two-column plain-text table of the numbers that apply, then the notes."""
    rows = evaluation_table(r)
    width = max(len(name) for name in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows.items()]
    lines += [f"note: {note}" for note in r.notes]
    return "\n".join(lines)
