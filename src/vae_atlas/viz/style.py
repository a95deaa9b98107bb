"""Shared look: the class colour map, image mosaics, fresh axes and rendering a figure to pixels.

Classes use :mod:`vae_atlas.palette` (matplotlib's ``tab10``, ``tab20`` beyond ten classes) so a
class has the same colour in every figure; unlabelled data is drawn in one neutral colour.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vae_atlas.palette import class_colors
from vae_atlas.palette import class_hex_colors as class_hex_colors  # figures import it from here

SINGLE_COLOR = "#4c72b0"
SCORE_COLORMAP = "viridis"  # per-point scores (anomaly): dark = typical, bright yellow = unusual
SCORE_COLORMAP_START = 0.2  # viridis below this is too dark to see on the explorer's dark map
TITLE_SIZE = 11
LABEL_SIZE = 9


def score_hex_ramp(n_steps: int) -> list[str]:
    """``n_steps`` ``#rrggbb`` colours along :data:`SCORE_COLORMAP` from
    :data:`SCORE_COLORMAP_START` to its bright end, low score first."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    steps = np.linspace(SCORE_COLORMAP_START, 1.0, n_steps)
    return [to_hex(c) for c in colormaps[SCORE_COLORMAP](steps)]


def label_colors(labels: np.ndarray | None, n: int, n_classes: int | None = None) -> np.ndarray:
    """A colour per point (n, 4) from integer labels, or the single colour when unlabelled."""
    from matplotlib.colors import to_rgba

    if labels is None:
        return np.tile(to_rgba(SINGLE_COLOR), (n, 1))
    labels = np.asarray(labels, dtype=np.int64)
    k = n_classes or int(labels.max()) + 1
    return class_colors(k)[labels]


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (5.0, 5.0)) -> tuple[Figure, Axes]:
    """``(ax.figure, ax)``, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def new_figure(fig: Figure | None, figsize: tuple[float, float]) -> Figure:
    """``fig`` cleared, or a new constrained-layout figure (not registered with pyplot)."""
    if fig is None:
        return Figure(figsize=figsize, layout="constrained")
    fig.clear()
    return fig


def image_mosaic(images: np.ndarray, ncols: int, *, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile images (N, C, H, W) in [0, 1] into one (rows·(H+pad)−pad, cols·(W+pad)−pad[, 3]) array,
    row-major; missing cells and gaps are ``fill``. One channel gives a 2-D array."""
    images = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
    n, c, h, w = images.shape
    ncols = max(1, min(ncols, n)) if n else 1
    nrows = max(1, -(-n // ncols))
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), fill, dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = images[
            i
        ].transpose(1, 2, 0)
    return out[..., 0] if c == 1 else out


def show_image(ax: Axes, image: np.ndarray, **kwargs: object) -> None:
    """imshow a (H, W) grey or (H, W, 3) colour image in [0, 1] without ticks."""
    if image.ndim == 2:
        kwargs.setdefault("cmap", "gray")
    ax.imshow(image, vmin=0.0, vmax=1.0, interpolation="nearest", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def to_hwc(image: np.ndarray) -> np.ndarray:
    """One image (C, H, W) -> (H, W) grey or (H, W, 3)."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    return image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)


def render_rgb(fig: Figure, *, dpi: float | None = None) -> np.ndarray:
    """Draw ``fig`` with the Agg backend and return its pixels (H, W, 3) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if dpi is not None:
        fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
