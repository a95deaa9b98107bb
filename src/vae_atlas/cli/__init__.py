"""The ``vae-atlas`` command line: parse arguments, call the library, print where things went.

Each subcommand lives in its own module exposing ``register(subparsers)``; expected user mistakes
(bad config, bad data, damaged run, a full or read-only disk) print one ``error:`` line and exit
with status 1, never a traceback. Everything heavy (torch) is imported inside :func:`main`, so a
Ctrl-C during start-up is an ordinary interruption too.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence


def build_parser() -> argparse.ArgumentParser:
    from vae_atlas.cli import compare, demo, evaluate, explore, export, prepare, report, train
    from vae_atlas.cli.flags import HelpFormatter

    parser = argparse.ArgumentParser(
        prog="vae-atlas",
        description="Train autoencoders and see what their latent space learned.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version="vae-atlas 0.1.0")
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        parser_class=functools.partial(argparse.ArgumentParser, formatter_class=HelpFormatter),
    )
    for module in (demo, prepare, train, report, compare, explore, evaluate, export):
        module.register(sub)
    return parser


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the input or the environment is wrong", not "a bug"."""
    from vae_atlas.checkpoint import RunFileError
    from vae_atlas.config import ConfigError
    from vae_atlas.data import DataError
    from vae_atlas.training import TrainingError

    return (ConfigError, DataError, RunFileError, TrainingError)


def describe_os_error(exc: OSError) -> str:
    """One line for a failing file operation: the path and the system's reason."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt as exc:
        print(f"interrupted{f': {exc}' if str(exc) else ''}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout's reader went away (``| head``) after the work was done
        from vae_atlas.cli.flags import silence_stdout

        silence_stdout()
        return 0


@contextlib.contextmanager
def ctrl_c_exits_at_once() -> Iterator[None]:
    """While the heavy modules import, a Ctrl-C ends the process at once with status 130.

    An interrupt raised inside an import can leave a half-initialised module behind (numpy's lazy
    ``linalg`` then recurses until ``RecursionError``), so it cannot be turned into the ordinary
    ``KeyboardInterrupt`` path; nothing has been written yet, so there is nothing to save.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        os.write(2, b"interrupted\n")
        os._exit(130)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run(argv: Sequence[str] | None) -> int:
    with ctrl_c_exits_at_once():
        parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # a command may start itself again
    try:
        return int(args.handler(args) or 0)
    except user_errors() as exc:
        from vae_atlas.training.distributed import FROM_WRITER

        if not getattr(exc, FROM_WRITER, False):  # else rank 0 of this torchrun reports it
            print(f"error: {exc}", file=sys.stderr)
    except BrokenPipeError:
        raise
    except OSError as exc:  # disk full, read-only or missing folder, permissions
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
