"""What a person sees of a training run, and how Ctrl-C reaches it: the per-epoch progress bar,
the one-line-per-epoch summary, and SIGINT turned into a flag the loop checks between steps."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PROGRESS_MODES = ("bar", "lines", "off")
# the bar is redrawn every this many batches (and at the epoch's last one)
BAR_EVERY = 20


class StopFlag:
    """Set by the first Ctrl-C; the loop reads it between optimiser steps."""

    def __init__(self) -> None:
        self.stop = False

    def __call__(self) -> bool:
        return self.stop


@contextmanager
def stop_on_sigint() -> Iterator[StopFlag]:
    """Turn Ctrl-C into a :class:`StopFlag` (never an exception mid optimiser step); a second
    Ctrl-C raises KeyboardInterrupt at once. Outside the main thread no handler can be set, and
    the flag is never raised."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: object) -> None:
        if flag.stop:  # a second Ctrl-C: give up immediately
            raise KeyboardInterrupt
        flag.stop = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class EpochBar:
    """A tqdm bar over one epoch's batches with the running loss, reconstruction, KL and
    images/s; ``None``-safe to drive when progress is off (every method then does nothing)."""

    def __init__(self, *, epoch: int, epochs: int, batches: int, done: int, show: bool) -> None:
        self.batches = batches
        self.bar: Any = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=batches,
                initial=done,
                desc=f"epoch {epoch + 1}/{epochs}",
                unit="batch",
                leave=False,
                dynamic_ncols=True,
            )

    def update(self, batch_index: int, sums: dict[str, float], seconds: float) -> None:
        if self.bar is None or (batch_index % BAR_EVERY and batch_index != self.batches):
            return
        n = max(sums.get("images", 0.0), 1.0)
        self.bar.n = batch_index
        self.bar.set_postfix(
            loss=f"{sums['loss'] / n:.2f}",
            recon=f"{sums['recon'] / n:.2f}",
            kl=f"{sums['kl'] / n:.2f}",
            img_s=f"{sums['images'] / max(seconds, 1e-9):.0f}",
            refresh=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def epoch_line(row: dict[str, Any], epochs: int) -> str:
    """One epoch in one line: training loss, reconstruction, KL (VAEs) and seconds."""
    parts = [f"epoch {row['epoch']}/{epochs}"]
    if "train_loss" in row:  # absent when every batch of the epoch was skipped
        parts += [f"loss {row['train_loss']:.2f}", f"recon {row['train_recon']:.2f}"]
        if row.get("train_kl") is not None:
            parts.append(f"KL {row['train_kl']:.2f}")
    else:
        parts.append("no batch trained")
    parts.append(f"{row['seconds']:.1f} s")
    return "  ".join(parts)
