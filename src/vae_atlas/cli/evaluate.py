"""``vae-atlas evaluate RUN``: likelihood, latent quality and disentanglement numbers of a run.

Prints a table and writes ``RUN/evaluation.json`` (atomically). The numbers come from
:func:`vae_atlas.analysis.evaluation.evaluate_run`, which is also the Python API.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vae_atlas.analysis.evaluation import (
    EvaluationResult,
    EvaluationSettings,
    evaluate_run,
    write_evaluation,
)
from vae_atlas.config import ConfigError
from vae_atlas.run import load_run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="likelihood, latent-quality and disentanglement numbers of a run",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("run", type=Path, help="run directory")
    p.add_argument("--k", type=int, default=None,
                   help="importance samples for -log p(x) (default 5000, --quick 100)")  # fmt: skip
    p.add_argument("--quick", action="store_true",
                   help="small k, 1,000 test images, fewer disentanglement samples")  # fmt: skip
    p.add_argument("--max-images", type=int, help="evaluate at most this many test images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true", help="print only; do not write the JSON")
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
    run = load_run(args.run)
    print(f"evaluating {run.path} (k={settings.k}, "
          f"{'all' if settings.max_test_images is None else settings.max_test_images} "
          "test images) ...", file=sys.stderr)  # fmt: skip
    result = evaluate_run(run, settings=settings, log=lambda line: print(line, file=sys.stderr))
    print(format_table(result))
    if not args.no_write:
        print(f"wrote {write_evaluation(result, run.path)}")
    return 0


def _fmt(value: object, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def format_table(r: EvaluationResult) -> str:
    """A two-column plain-text table of the main numbers, then the notes."""
    rows = [
        ("run", f"{r.run} ({r.dataset}, {r.objective}, {r.latent_dim}-D)"),
        ("test images", f"{r.n_test}{' (binarised)' if r.binarized else ''}"),
        ("-ELBO (nats)", _fmt(r.neg_elbo)),
        (f"-log p(x), IWAE k={_fmt(r.k, 'd')} (nats)",
         _fmt(r.iwae_nll) + ("" if r.iwae_nll_stderr is None else f" ± {r.iwae_nll_stderr:.2f}")),
        ("bits/dim (IWAE)", _fmt(r.iwae_bits_per_dim, ".4f")),
        ("reconstruction NLL (nats)", _fmt(r.recon_nll)),
        ("kNN accuracy (k=5)", _fmt(r.knn_accuracy, ".3f")),
        ("linear-probe accuracy", _fmt(r.linear_probe_accuracy, ".3f")),
        ("silhouette", _fmt(r.silhouette, ".3f")),
        ("active units (var > 0.01)", f"{r.active_units} / {r.latent_dim}"),
        ("KL total (nats)", _fmt(None if r.kl_per_dim is None else sum(r.kl_per_dim))),
        ("total correlation (nats)", _fmt(r.total_correlation)),
        ("interpolation path / chord", _fmt(r.smoothness)),
        ("interpolation largest / mean step", _fmt(r.roughness)),
    ]  # fmt: skip
    for name, value in (r.disentanglement or {}).items():
        if name not in ("n_points", "n_votes", "seed"):
            rows.append((f"disentanglement: {name}", _fmt(value, ".3f")))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    lines += [f"note: {note}" for note in r.notes]
    return "\n".join(lines)
