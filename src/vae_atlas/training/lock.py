"""One writer per run directory: an exclusive OS file lock on ``RUN/.lock``.

``train`` (new runs and ``--resume``), ``report`` and ``evaluate`` hold it while they write into
a run; a second writer is refused at once with :class:`RunInUseError`, naming the run and the
process that holds it. The lock is ``flock(2)``: the kernel releases it when its process ends,
however it ends (``kill -9`` included), so a stale ``.lock`` file never blocks anyone. Readers
(``load_run``, the explorer) take no lock; every file is replaced atomically, so they always see
whole files.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vae_atlas.checkpoint import CONFIG, RunFileError

LOCK = ".lock"


class RunInUseError(RunFileError):
    """Another process is writing the run directory."""


def acquire_run_lock(folder: Path, action: str) -> int:
    """Lock ``folder/.lock`` for this process (``action`` says who holds it); returns the open
    file descriptor, whose closing releases the lock."""
    path = Path(folder) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunInUseError(
            f"{folder} is in use: another process ({holder}) is writing it; wait for it to "
            "finish or stop it, then try again"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"vae-atlas {action}, pid {os.getpid()}\n".encode(), 0)
    return fd


def lock_is_held(folder: Path) -> bool:
    """Whether a live process holds ``folder``'s lock (a folder without a lock file: none)."""
    try:
        fd = os.open(Path(folder) / LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the lock this look took
    return False


@contextmanager
def locked_run(run_dir: Path, action: str) -> Iterator[None]:
    """Hold the run's lock for the duration of the block.

    A folder without ``config.json`` holds no run: it is left untouched (no lock file is made)
    and loading it then says what is wrong.
    """
    if not (Path(run_dir) / CONFIG).is_file():
        yield
        return
    fd = acquire_run_lock(run_dir, action)
    try:
        yield
    finally:
        os.close(fd)
