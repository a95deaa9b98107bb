"""How a headless chromium is started to drive the explorer page (browser tests, benchmarks).

Debian's chromium is used, never a browser downloaded by Playwright; the flags run it headless
as root and stop its background traffic (the machines this runs on reach only package
registries).
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
