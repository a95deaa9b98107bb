"""Prior samples (a grid of decoded z ~ N(0, I)) and reconstructions (originals above their
reconstructions)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vae_atlas.analysis.sampling import Reconstructions, Samples
from vae_atlas.viz.grids import plot_image_grid
from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, image_mosaic, new_axes, show_image


def plot_prior_samples(
    samples: Samples, *, ncols: int = 10, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Decoded prior draws as a grid."""
    return plot_image_grid(
        samples.images, ncols=ncols, ax=ax, title=title or "Samples from the prior z ~ N(0, I)"
    )


def plot_reconstructions(
    recons: Reconstructions, *, ncols: int = 10, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Pairs of rows: originals, then their reconstructions, ``ncols`` inputs per pair."""
    n = len(recons.originals)
    ncols = max(1, min(ncols, n))
    rows = []
    for start in range(0, n, ncols):
        block = slice(start, start + ncols)
        orig, rec = recons.originals[block], recons.reconstructions[block]
        if len(orig) < ncols:  # pad the last block with blank (white) cells
            blank = np.ones((ncols - len(orig), *orig.shape[1:]), dtype=np.float32)
            orig, rec = np.concatenate([orig, blank]), np.concatenate([rec, blank])
        rows.extend([orig, rec])
    stacked = np.concatenate(rows)
    n_pairs = len(rows) // 2
    fig, ax = new_axes(ax, (min(0.55 * ncols + 1.2, 9), 1.1 * n_pairs + 0.6))
    mosaic = image_mosaic(stacked, ncols, pad=1)
    show_image(ax, mosaic)
    h = recons.originals.shape[2]
    centers = [(2 * i + j) * (h + 1) + h / 2 for i in range(n_pairs) for j in (0, 1)]
    ax.set_yticks(centers, ["input", "recon"] * n_pairs, fontsize=LABEL_SIZE)
    ax.set_title(
        title or f"Reconstructions (mean squared error {recons.mse:.4f})", fontsize=TITLE_SIZE
    )
    return fig
