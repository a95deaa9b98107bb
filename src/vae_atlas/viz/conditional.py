"""Figures of a conditional VAE (Sohn et al. 2015): one style decoded under every class (or
every attribute flipped), and prior draws decoded per class (or per attribute switched on).
Computed by :mod:`vae_atlas.analysis.conditional`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, image_mosaic, new_axes, show_image


def plot_every_class(
    originals: np.ndarray,
    decoded: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str = "The same code z decoded under every class",
) -> Figure:
    """One row per input: the input (C, H, W), then its code decoded under each condition
    (``decoded`` (N, K, C, H, W)); columns are titled with ``class_names`` (K,)."""
    n, k = decoded.shape[:2]
    tiles = np.concatenate([originals[:, None], decoded], axis=1)  # (N, K+1, C, H, W)
    fig, ax = new_axes(None, (0.62 * (k + 1) + 0.6, 0.62 * n + 0.8))
    h, w = tiles.shape[-2:]
    pad = 1
    show_image(ax, image_mosaic(tiles.reshape(-1, *tiles.shape[2:]), k + 1, pad=pad))
    ax.axvline(w, color="#c44e52", lw=1.5)  # the gap after the inputs column
    centres = np.arange(k + 1) * (w + pad) + (w - 1) / 2
    names = ["input", *class_names]
    long = max(len(name) for name in names) > 5  # attribute names: slanted so they do not overlap
    ax.set_xticks(centres, names, fontsize=LABEL_SIZE, rotation=40 if long else 0)
    ax.xaxis.tick_top()
    if long:
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("left")
    ax.set_title(title, fontsize=TITLE_SIZE)
    return fig


def plot_class_samples(
    samples: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str = "Prior draws z ~ N(0, I), one column each, decoded per class",
) -> Figure:
    """Rows = conditions named ``class_names`` (K,), columns = the same prior draws
    z ~ N(0, I) (``samples`` (K, n, C, H, W))."""
    k, n = samples.shape[:2]
    fig, ax = new_axes(None, (0.55 * n + 1.0, 0.55 * k + 0.6))
    h = samples.shape[-2]
    pad = 1
    show_image(ax, image_mosaic(samples.reshape(-1, *samples.shape[2:]), n, pad=pad))
    ax.set_yticks(np.arange(k) * (h + pad) + (h - 1) / 2, list(class_names), fontsize=LABEL_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    return fig
