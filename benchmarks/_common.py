"""What every benchmark shares: where the data is, how chromium starts, how a table and a
verdict are printed.

Each benchmark prints one line per target it checks::

    VERDICT <target>: met (<figure>)
    VERDICT <target>: not met (<figure>)

so a run can be read (or grepped) without knowing the script. ``benchmarks/README.md`` lists
every benchmark, its targets and the command behind each number quoted in the docs.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vae_atlas.explorer.browser_flags import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "datasets" / "mnist"


def verdict(target: str, met: bool, figure: str) -> bool:
    """Print ``VERDICT <target>: met|not met (<figure>)``; returns ``met``."""
    print(f"VERDICT {target}: {'met' if met else 'not met'} ({figure})")
    return met


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns; the first row is the header, underlined."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def launch_chromium(playwright: Any) -> Any:
    """A headless chromium browser (Debian's, never Playwright's download)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


def chromium_available() -> bool:
    return CHROMIUM.exists()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
