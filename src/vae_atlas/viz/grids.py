"""Image grids and the decoded manifold: K×K decodings placed at their latent coordinates, shown
standalone (ticks in latent units) or overlaid on the latent scatter (Kingma & Welling 2014)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vae_atlas.analysis.grid import LatentGrid
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, image_mosaic, new_axes, show_image, to_hwc


def plot_image_grid(
    images: np.ndarray,
    *,
    ncols: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
    pad: int = 1,
) -> Figure:
    """Tile images (N, C, H, W) in [0, 1] row-major into one picture with white gaps."""
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, ax = new_axes(ax, (min(0.55 * ncols + 0.4, 9), min(0.55 * nrows + 0.6, 9)))
    show_image(ax, image_mosaic(images, ncols, pad=pad))
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    return fig


class ManifoldDisplay(FigureDisplay):
    """Decodings ``images`` (K*K, C, H, W) of a :class:`LatentGrid`, in the grid's order.

    Attributes set by :meth:`plot` / :meth:`overlay`: ``ax_``, ``figure_``, ``tiles_`` (the
    AxesImage objects; one per cell for the overlay, one mosaic standalone).
    """

    def __init__(self, grid: LatentGrid, images: np.ndarray, title: str = "Decoded manifold"):
        if len(images) != len(grid.z):
            raise ValueError(f"{len(images)} images for a grid of {len(grid.z)} codes")
        self.grid = grid
        self.images = np.asarray(images)
        self.title = title

    def plot(self, ax: Axes | None = None, *, tick_every: int | None = None) -> ManifoldDisplay:
        """The K×K mosaic with ticks at (some of) the cell centres, labelled in latent units."""
        k = self.grid.size
        fig, ax = new_axes(ax, (5.6, 5.6))
        _, _, h, w = self.images.shape
        pad = 1 if h <= 32 else 2
        show_image(ax, image_mosaic(self.images, k, pad=pad))
        step = tick_every or max(1, k // 5)
        idx = np.arange(0, k, step)
        ax.set_xticks(
            idx * (w + pad) + (w - 1) / 2, [f"{x:.2f}" for x in self.grid.u[idx]], fontsize=7
        )
        ax.set_yticks(
            idx * (h + pad) + (h - 1) / 2, [f"{y:.2f}" for y in self.grid.v[idx]], fontsize=7
        )
        ax.set_xlabel(f"{self.grid.axis_labels[0]} (prior quantiles)", fontsize=LABEL_SIZE)
        ax.set_ylabel(f"{self.grid.axis_labels[1]} (prior quantiles)", fontsize=LABEL_SIZE)
        ax.set_title(self.title, fontsize=TITLE_SIZE)
        self.tiles_ = ax.get_images()
        self.ax_, self.figure_ = ax, fig
        return self

    def overlay(
        self,
        ax: Axes,
        *,
        coords_2d: np.ndarray | None = None,
        alpha: float = 0.85,
        zoom: float = 0.9,
    ) -> ManifoldDisplay:
        """Draw each decoding as a small tile centred at its latent position on ``ax`` (e.g. a
        scatter's axes). ``coords_2d`` (K*K, 2) places the tiles (default: the grid plane)."""
        coords = self.grid.plane if coords_2d is None else np.asarray(coords_2d)
        u, v = self.grid.u, self.grid.v
        half_w = zoom * _half_spacing(u)
        half_h = zoom * _half_spacing(v[::-1])[::-1]
        k = self.grid.size
        self.tiles_ = []
        xlim, ylim = ax.get_xlim(), ax.get_ylim()
        for i, (x, y) in enumerate(coords):
            r, q = divmod(i, k)
            img = to_hwc(self.images[i])
            extent = (x - half_w[q], x + half_w[q], y - half_h[r], y + half_h[r])
            cmap = "gray" if img.ndim == 2 else None
            self.tiles_.append(
                ax.imshow(
                    img,
                    extent=extent,
                    cmap=cmap,
                    vmin=0,
                    vmax=1,
                    alpha=alpha,
                    zorder=0.5,
                    interpolation="nearest",
                )
            )
        ax.set_xlim(
            min(xlim[0], coords[:, 0].min() - half_w[0]),
            max(xlim[1], coords[:, 0].max() + half_w[-1]),
        )
        ax.set_ylim(
            min(ylim[0], coords[:, 1].min() - half_h[-1]),
            max(ylim[1], coords[:, 1].max() + half_h[0]),
        )
        ax.set_aspect("auto")
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _half_spacing(values: np.ndarray) -> np.ndarray:
    """Half the distance to the nearer neighbour of each sorted coordinate (K,)."""
    if len(values) < 2:
        return np.full(len(values), 0.5)
    gaps = np.diff(values)
    left = np.concatenate([[gaps[0]], gaps])
    right = np.concatenate([gaps, [gaps[-1]]])
    return 0.5 * np.minimum(left, right)
