"""The error every invalid configuration raises, and the checks the config classes share: each
names the field and the value at fault in one line."""

from __future__ import annotations

import math


class ConfigError(ValueError):
    """A configuration value, or a config file, is invalid; the message names the field.

    ``field`` is the dotted name (``train.lr``) when one value is at fault, so a front end can
    name its own spelling of it (the CLI says ``--lr``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}", field=name)


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}={value!r} must be a number", field=name)
    if not math.isfinite(value):
        raise ConfigError(f"{name}={value!r} must be a finite number", field=name)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name}={value!r} must be {'>= 0' if allow_zero else '> 0'}", field=name)


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}={value!r} must be an integer >= {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value!r} must be at most {maximum}", field=name)
