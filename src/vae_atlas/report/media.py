"""Writing figures to disk: PNG via matplotlib's Agg canvas, GIF via Pillow (few, small frames)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def save_png(fig: Figure, path: Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG and release it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, facecolor="white")
    fig.clear()
    return path


def save_gif(frames: Sequence[np.ndarray], path: Path, *, ms_per_frame: int = 120) -> Path:
    """Write RGB frames (H, W, 3) uint8 as a looping GIF with a shared adaptive palette."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    # one palette per frame (GIF allows it): a shared palette drops the colours of small points
    quantized = [
        im.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        for im in images
    ]
    quantized[0].save(
        path,
        save_all=True,
        append_images=quantized[1:],
        duration=ms_per_frame,
        loop=0,
        optimize=True,
        disposal=1,
    )
    return path


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels of a PNG or GIF, read from its header."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size
