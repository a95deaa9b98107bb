"""What every subcommand shares: help that shows each default once, config fields mapped to
the flags that set them, checks on output paths, and printing that survives a closed pipe."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_atlas.config import ConfigError, DataConfig, ModelConfig, TrainConfig
from vae_atlas.models.hierarchical import LEVEL_NAMES, has_levels

SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


class HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already states its default
    or there is none to state (None, or an off switch)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" not in text
            and action.option_strings
            and action.default is not None
            and action.default is not False
            and action.default is not argparse.SUPPRESS
        ):
            text += " (default: %(default)s)"
        return text


@dataclass(frozen=True)
class Option:
    """A flag that sets one config field (``section.name``); its default comes from the config."""

    flag: str
    field: str
    help: str
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return self.field.split(".")[0]

    @property
    def name(self) -> str:
        return self.field.split(".")[1]


def config_default(field: str) -> Any:
    """The default of ``section.name`` as declared in :mod:`vae_atlas.config`."""
    section, name = field.split(".")
    found = {f.name: f for f in dataclasses.fields(SECTIONS[section])}[name]
    return found.default


def show(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def add_options(group: argparse._ArgumentGroup, options: Iterable[Option]) -> None:
    """Add each option with ``default=None`` (so a given flag is told from an omitted one) and
    its config default written into the help, unless the help explains the default itself."""
    for opt in options:
        default = config_default(opt.field)
        text = opt.help
        if "default" not in text and default is not None and default is not False:
            text += f" (default: {show(default)})"
        group.add_argument(
            opt.flag, *opt.aliases, dest=opt.name, default=None, help=text, **opt.kwargs
        )


def given(args: argparse.Namespace, options: Iterable[Option], section: str) -> dict[str, Any]:
    """The config fields of ``section`` whose flags were given on the command line."""
    values = {}
    for opt in options:
        if opt.section == section and getattr(args, opt.name, None) is not None:
            values[opt.name] = getattr(args, opt.name)
    return values


def flag_message(exc: ConfigError, options: Iterable[Option]) -> str:
    """``exc``'s message with the config field replaced by the flag that sets it."""
    text = str(exc)
    flags = {opt.field: opt.flag for opt in options}
    if exc.field in flags:
        text = text.replace(f"{exc.field}=", f"{flags[exc.field]} ").replace(
            exc.field, flags[exc.field]
        )
    return text


def check_out_dir(path: Path, flag: str = "--out") -> None:
    """Refuse an output folder that is a file or lies under one, before any work is done."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                where = "is" if candidate == path else f"lies under {candidate}, which is"
                raise ConfigError(f"{flag} {path} {where} a file, not a folder")
            return


def silence_stdout() -> None:
    """Point stdout at /dev/null: the reader went away (``| head``); the work goes on."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def say(line: str) -> None:
    """Print a line to stdout; a closed pipe silences later lines instead of stopping the work."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        silence_stdout()


def quiet(line: str) -> None:
    """The ``log`` of ``--quiet``: nothing."""


def stage_line(name: str, seconds: float) -> None:
    """Progress of a long command: one line per finished stage on stderr (stdout keeps the
    result, so ``report ... | tail -1`` still gives the path)."""
    print(f"  {name}: {seconds:.1f} s", file=sys.stderr, flush=True)


def add_level_flag(p: argparse.ArgumentParser) -> None:
    """``--level top|bottom``: which level of a two-level hierarchical VAE is shown."""
    p.add_argument(
        "--level",
        choices=tuple(LEVEL_NAMES),
        default=None,
        help="hvae runs: the level the figures, numbers and map show, top (z2) or bottom (z1); "
        "traversals stay at the top level (default: top)",
    )


def apply_level(models: Iterable[Any], level: str | None, names: Iterable[str]) -> None:
    """Show ``level`` on every model that has levels; a ``--level`` that no model given has is
    a one-line error naming the runs."""
    if level is None:
        return
    models, names = list(models), list(names)
    leveled = [m for m in models if has_levels(m)]
    if not leveled:
        which = ", ".join(names)
        raise ConfigError(
            f"--level {level}: {which} {'has' if len(names) == 1 else 'have'} no levels "
            "(only a two-level hierarchical VAE, --objective hvae, does)"
        )
    for model in leveled:
        model.show_level(level)
