"""Figures of a VQ-VAE's codebook (van den Oord et al. 2017): code usage, code maps, decoded
codebook entries and images that share codes. Computed by :mod:`vae_atlas.analysis.codebook`."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from vae_atlas.viz.style import (
    LABEL_SIZE,
    SINGLE_COLOR,
    TITLE_SIZE,
    new_axes,
    new_figure,
    show_image,
    to_hwc,
)


def code_colormap(size: int) -> ListedColormap:
    """K distinguishable colours, one per code, the same in every figure of a report (a
    golden-ratio walk around the hue circle, so neighbouring indices differ)."""
    from matplotlib.colors import hsv_to_rgb

    hues = (np.arange(size) * 0.618033988749895) % 1.0
    sat = 0.55 + 0.35 * (np.arange(size) % 2)
    val = 0.95 - 0.25 * ((np.arange(size) // 2) % 2)
    return ListedColormap(hsv_to_rgb(np.stack([hues, sat, val], axis=1)))


def plot_code_usage(counts: np.ndarray, perplexity: float, *, ax: Axes | None = None) -> Figure:
    """Bars of how many cells use each code (K,), most used first, with the perplexity."""
    counts = np.asarray(counts)
    order = np.argsort(-counts, kind="stable")
    fig, ax = new_axes(ax, (7.0, 3.2))
    share = counts[order] / max(int(counts.sum()), 1)
    ax.bar(np.arange(len(counts)), share, width=1.0, color=SINGLE_COLOR)
    used = int((counts > 0).sum())
    ax.set_xlim(-0.5, len(counts) - 0.5)
    ax.set_xlabel(f"codes, most used first ({used} of {len(counts)} used)", fontsize=LABEL_SIZE)
    ax.set_ylabel("share of code cells", fontsize=LABEL_SIZE)
    ax.set_title(
        f"Codebook usage: perplexity {perplexity:.1f} of {len(counts)} possible",
        fontsize=TITLE_SIZE,
    )
    return fig


def plot_code_maps(
    images: np.ndarray,
    codes: np.ndarray,
    reconstructions: np.ndarray,
    size: int,
    *,
    fig: Figure | None = None,
) -> Figure:
    """One row per image: the input (C, H, W), its code map (h, w) coloured by code with the
    index in each cell when the grid is small, and the decoding of that map."""
    n = len(images)
    fig = new_figure(fig, (6.0, 2.0 * n))
    axes = fig.subplots(n, 3, squeeze=False)
    cmap = code_colormap(size)
    h, w = codes.shape[1:]
    for row in range(n):
        show_image(axes[row, 0], to_hwc(images[row]))
        axes[row, 1].imshow(codes[row], cmap=cmap, vmin=-0.5, vmax=size - 0.5)
        axes[row, 1].set_xticks([])
        axes[row, 1].set_yticks([])
        if h * w <= 100:
            for (i, j), code in np.ndenumerate(codes[row]):
                axes[row, 1].text(j, i, str(code), ha="center", va="center", fontsize=6)
        show_image(axes[row, 2], to_hwc(reconstructions[row]))
    for col, title in enumerate(("input", f"code map ({h}×{w} cells)", "decoded codes")):
        axes[0, col].set_title(title, fontsize=LABEL_SIZE)
    return fig


def plot_codebook_entries(
    tiles: np.ndarray, code_ids: np.ndarray, counts: np.ndarray, *, ncols: int = 8
) -> Figure:
    """Each code decoded on its own (every cell set to it), titled with its index and usage."""
    n = len(tiles)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = new_figure(None, (1.1 * ncols, 1.25 * nrows + 0.3))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    total = max(int(np.asarray(counts).sum()), 1)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        show_image(ax, to_hwc(tiles[i]))
        code = int(code_ids[i])
        ax.set_title(f"#{code} {100 * counts[code] / total:.1f}%", fontsize=7)
    return fig


def plot_code_neighbours(
    images: np.ndarray,
    queries: np.ndarray,
    neighbours: np.ndarray,
    distances: np.ndarray,
    cells: int,
) -> Figure:
    """One row per query image (first column) followed by its nearest images under the code
    (fewest differing cells), each titled with how many of the ``cells`` cells differ."""
    n_rows, n_cols = neighbours.shape
    fig = new_figure(None, (1.0 * (n_cols + 1) + 0.4, 1.15 * n_rows + 0.3))
    axes = fig.subplots(n_rows, n_cols + 1, squeeze=False)
    for r, q in enumerate(queries):
        show_image(axes[r, 0], to_hwc(images[q]))
        axes[r, 0].set_title("query", fontsize=7)
        for c in range(n_cols):
            show_image(axes[r, c + 1], to_hwc(images[neighbours[r, c]]))
            axes[r, c + 1].set_title(f"{distances[r, c]}/{cells} differ", fontsize=7)
    return fig
