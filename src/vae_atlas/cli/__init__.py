"""The ``vae-atlas`` command line: parse arguments, call the library, print where things went.

Each subcommand lives in its own module exposing ``register(subparsers)``; expected user mistakes
(bad config, bad data, damaged run) print one ``error:`` line and exit with status 1, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vae_atlas.checkpoint import RunFileError
from vae_atlas.config import ConfigError
from vae_atlas.data import DataError
from vae_atlas.training import TrainingError

USER_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    DataError,
    RunFileError,
    TrainingError,
    FileNotFoundError,
    PermissionError,
)


def build_parser() -> argparse.ArgumentParser:
    from vae_atlas.cli import compare, demo, evaluate, explore, report, train

    parser = argparse.ArgumentParser(
        prog="vae-atlas",
        description="Train autoencoders and see what their latent space learned.",
    )
    parser.add_argument("--version", action="version", version="vae-atlas 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, train, report, compare, explore, evaluate):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
