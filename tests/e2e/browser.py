"""How the browser tests start Debian's chromium (never ``playwright install``)."""

from __future__ import annotations

from vae_atlas.explorer.browser_flags import CHROMIUM, CHROMIUM_ARGS

ARGS = list(CHROMIUM_ARGS)
__all__ = ["ARGS", "CHROMIUM"]
