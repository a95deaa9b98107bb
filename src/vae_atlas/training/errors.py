"""How training fails: each error's message says why and what to do next."""

from __future__ import annotations


class TrainingError(RuntimeError):
    """Training cannot start or continue; the message says why and what to do."""


class TrainingDiverged(TrainingError):
    """The loss became NaN/Inf; the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """A second Ctrl-C stopped training before it could save; the message says how to resume."""
