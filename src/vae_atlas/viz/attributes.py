"""Attribute figures: codes coloured by an attribute, faces moved along attribute directions,
which dimensions carry each attribute, and latent arithmetic (A − B + C)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from vae_atlas.analysis.attribute_scores import AttributeScores
from vae_atlas.data.attributes import is_binary
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, image_mosaic, new_axes, show_image

BINARY_COLORS = ("#9aa5b1", "#d1495b")  # without (grey), with (red)
CONTINUOUS_COLORMAP = "viridis"


class AttributeScatterDisplay(FigureDisplay):
    """2-D codes ``xy`` (N, 2) coloured by one attribute ``values`` (N,): two colours for a
    binary attribute, a colour bar for a continuous one. Attributes: ``ax_``, ``figure_``."""

    def __init__(self, xy: np.ndarray, values: np.ndarray, name: str, axes_label: str) -> None:
        self.xy, self.values, self.name, self.axes_label = xy, np.asarray(values), name, axes_label

    def plot(self, ax: Axes | None = None) -> AttributeScatterDisplay:
        fig, ax = new_axes(ax, (4.2, 4.0))
        x, y = self.xy[:, 0], self.xy[:, 1]
        if is_binary(self.values):
            for value, colour in enumerate(BINARY_COLORS):
                keep = self.values == value
                label = f"{'with' if value else 'without'} ({int(keep.sum())})"
                ax.scatter(x[keep], y[keep], s=6, c=colour, label=label, linewidths=0)
            ax.legend(fontsize=LABEL_SIZE - 1, markerscale=2, loc="best")
        else:
            dots = ax.scatter(x, y, s=6, c=self.values, cmap=CONTINUOUS_COLORMAP, linewidths=0)
            fig.colorbar(dots, ax=ax, shrink=0.8).set_label(self.name, fontsize=LABEL_SIZE)
        ax.set_title(self.name, fontsize=TITLE_SIZE)
        ax.set_xlabel(f"{self.axes_label} 1", fontsize=LABEL_SIZE)
        ax.set_ylabel(f"{self.axes_label} 2", fontsize=LABEL_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self


class DirectionGridDisplay(FigureDisplay):
    """Rows of decoded faces (R, S, C, H, W): each row one input, its code plus ``alphas[s]`` (S,)
    times an attribute direction (α < 0 removes it, 0 is the reconstruction, α > 0 adds it),
    ``row_labels`` (R,). Attributes: ``ax_``, ``figure_``."""

    def __init__(
        self, images: np.ndarray, alphas: np.ndarray, row_labels: Sequence[str], title: str
    ) -> None:
        self.images, self.alphas, self.row_labels, self.title = images, alphas, row_labels, title

    def plot(self, ax: Axes | None = None) -> DirectionGridDisplay:
        rows, steps, _, h, w = self.images.shape
        fig, ax = new_axes(ax, (0.75 * steps + 1.2, 0.75 * rows + 0.7))
        flat = self.images.reshape(rows * steps, *self.images.shape[2:])  # (R·S, C, H, W)
        show_image(ax, image_mosaic(flat, steps))
        ax.set_xticks(
            [j * (w + 1) + w / 2 for j in range(steps)],
            [f"{a:+.1f}" if a else "0 (recon)" for a in self.alphas],
            fontsize=LABEL_SIZE - 1,
        )
        ax.set_yticks([r * (h + 1) + h / 2 for r in range(rows)], self.row_labels, fontsize=7)
        ax.set_xlabel("α (× the direction)", fontsize=LABEL_SIZE)
        ax.set_title(self.title, fontsize=TITLE_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self


class AttributeTableDisplay(FigureDisplay):
    """Heatmap (A, D) of |correlation| between each attribute and each latent dimension, each row
    labelled with its held-out probe score. Attributes: ``ax_``, ``figure_``."""

    def __init__(self, scores: AttributeScores, max_dims: int = 64) -> None:
        self.scores, self.max_dims = scores, max_dims

    def plot(self, ax: Axes | None = None) -> AttributeTableDisplay:
        s = self.scores
        n_attr, n_dims = s.dim_corr.shape
        dims = np.argsort(-s.dim_corr.max(axis=0))[: self.max_dims]  # most informative first
        fig, ax = new_axes(ax, (min(max(6.0, 3.5 + 0.16 * len(dims)), 13), 0.9 + 0.28 * n_attr))
        image = ax.imshow(s.dim_corr[:, dims], cmap="magma", vmin=0, vmax=1, aspect="auto")
        ax.set_yticks(range(n_attr), [_row_label(s, a) for a in range(n_attr)], fontsize=7)
        ax.set_xticks(range(len(dims)), [f"z{d + 1}" for d in dims], fontsize=6, rotation=90)
        fig.colorbar(image, ax=ax, shrink=0.8).set_label("|correlation|", fontsize=LABEL_SIZE)
        shown = "" if len(dims) == n_dims else f" (the {len(dims)} of {n_dims} most related)"
        ax.set_title(f"Which dimensions carry each attribute{shown}", fontsize=TITLE_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self


def _row_label(s: AttributeScores, a: int) -> str:
    if s.binary[a]:
        if not np.isfinite(s.accuracy[a]):
            return f"{s.names[a]}  (probe: n/a)"
        return f"{s.names[a]}  probe {s.accuracy[a]:.2f} / base {s.majority[a]:.2f}"
    return f"{s.names[a]}  probe R² {s.r2[a]:.2f}"


class AnalogyDisplay(FigureDisplay):
    """Rows of four images (R, 4, C, H, W): A, B, C and the decoding of z_A − z_B + z_C.
    Attributes: ``ax_``, ``figure_``."""

    def __init__(self, images: np.ndarray, title: str) -> None:
        self.images, self.title = images, title

    def plot(self, ax: Axes | None = None) -> AnalogyDisplay:
        rows, cols, _, h, w = self.images.shape
        fig, ax = new_axes(ax, (0.8 * cols + 0.6, 0.8 * rows + 0.7))
        show_image(ax, image_mosaic(self.images.reshape(rows * cols, *self.images.shape[2:]), cols))
        ax.set_xticks(
            [j * (w + 1) + w / 2 for j in range(cols)],
            ["A", "B", "C", "A − B + C"][:cols],
            fontsize=LABEL_SIZE,
        )
        ax.set_title(self.title, fontsize=TITLE_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self
