"""A report's building block: a figure written to disk with its caption, and the helpers that
write one (timing each, so ``benchmarks/report_speed.py`` can print time per figure)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.report.media import image_size, save_gif, save_png

SECTIONS = (
    "Latent space",
    "Decoding and generating",
    "Walking the space",
    "Attributes",
    "Training",
    "Prior fit",
    "Anomalies",
)


class FigureNotApplicable(Exception):
    """Raised while drawing when a figure does not apply to this model or data (no labels, too
    few dimensions, ...); the message says why. :meth:`FigureWriter.add` turns it into a note
    on the page. Any other exception is a bug and propagates, so that it fails a test instead
    of vanishing from a page."""


@dataclass(frozen=True)
class FigureItem:
    """One figure of the report: ``files`` relative to the report folder (PNG, then any GIF),
    and their pixel ``sizes`` (width, height)."""

    key: str
    section: str
    title: str
    caption: str
    files: tuple[str, ...]
    seconds: float = 0.0
    sizes: tuple[tuple[int, int], ...] = ()


@dataclass
class FigureWriter:
    """Writes figures into ``out_dir`` (``prefix`` names them) and collects :class:`FigureItem`s."""

    out_dir: Path
    dpi: int = 110
    prefix: str = ""
    items: list[FigureItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    progress: Callable[[str, float], None] | None = None  # told (title, seconds) per figure

    def add(
        self,
        key: str,
        section: str,
        title: str,
        caption: str,
        draw: Callable[[], Figure],
        *,
        frames: Callable[[], Sequence[np.ndarray]] | None = None,
        ms_per_frame: int = 120,
    ) -> FigureItem | None:
        """Draw, save and record one figure (and optional GIF); :class:`FigureNotApplicable`
        becomes a note instead."""
        start = time.perf_counter()
        name = f"{self.prefix}{key}"
        try:
            files = [save_png(draw(), self.out_dir / f"{name}.png", dpi=self.dpi).name]
            if frames is not None:
                gif = save_gif(frames(), self.out_dir / f"{name}.gif", ms_per_frame=ms_per_frame)
                files.append(gif.name)
        except FigureNotApplicable as exc:
            self.notes.append(f"{title}: not drawn ({exc})")
            return None
        sizes = tuple(image_size(self.out_dir / f) for f in files)
        seconds = time.perf_counter() - start
        item = FigureItem(key, section, title, caption, tuple(files), seconds, sizes)
        self.items.append(item)
        if self.progress is not None:
            self.progress(title, item.seconds)
        return item
