"""Latent scatter plots: test-set codes coloured by class — 2-D directly, 3-D from a few fixed
angles (and as rotating frames), higher dimensions through a named projection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from vae_atlas.analysis.encode import LatentSet
from vae_atlas.analysis.projection import Projection
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import (
    LABEL_SIZE,
    TITLE_SIZE,
    label_colors,
    new_axes,
    new_figure,
    render_rgb,
)


def _point_size(n: int) -> float:
    return float(np.clip(3000.0 / max(n, 1), 1.5, 30.0))


def _legend_handles(class_names: Sequence[str], colors: np.ndarray) -> list[Line2D]:
    return [
        Line2D([], [], ls="", marker="o", ms=6, color=colors[i], label=name)
        for i, name in enumerate(class_names)
    ]


def _class_names(labels: np.ndarray | None, names: Sequence[str] | None) -> list[str] | None:
    if labels is None:
        return None
    if names:
        return list(names)
    return [str(i) for i in range(int(np.max(labels)) + 1)]


class LatentScatterDisplay(FigureDisplay):
    """Codes (N, 2) coloured by class, with a legend; axes named in latent or projection units.

    Attributes set by :meth:`plot`: ``ax_``, ``figure_``, ``points_`` (the PathCollection).
    """

    def __init__(
        self,
        coords: np.ndarray,
        labels: np.ndarray | None = None,
        class_names: Sequence[str] | None = None,
        axis_labels: tuple[str, str] = ("z1", "z2"),
        title: str = "Latent space",
    ) -> None:
        self.coords = np.asarray(coords, dtype=np.float64)
        self.labels = None if labels is None else np.asarray(labels)
        self.class_names = _class_names(self.labels, class_names)
        self.axis_labels = axis_labels
        self.title = title

    @classmethod
    def from_latents(
        cls,
        latents: LatentSet,
        projection: Projection,
        class_names: Sequence[str] | None = None,
        title: str | None = None,
    ) -> LatentScatterDisplay:
        names = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
        method = "" if projection.method == "identity" else f" ({names[projection.method]})"
        return cls(
            projection.coords,
            latents.labels,
            class_names,
            projection.axis_labels,
            title or f"Test set in latent space{method}",
        )

    def plot(
        self,
        ax: Axes | None = None,
        *,
        size: float | None = None,
        alpha: float = 0.7,
        legend: bool = True,
        xlim: tuple[float, float] | None = None,
        ylim: tuple[float, float] | None = None,
        seed: int = 0,
    ) -> LatentScatterDisplay:
        fig, ax = new_axes(ax, (6.2, 5.0))
        n = len(self.coords)
        n_classes = len(self.class_names) if self.class_names else None
        colors = label_colors(self.labels, n, n_classes)
        order = np.random.default_rng(seed).permutation(n)  # no class is always drawn on top
        self.points_ = ax.scatter(
            self.coords[order, 0],
            self.coords[order, 1],
            s=size or _point_size(n),
            c=colors[order],
            alpha=alpha,
            linewidths=0,
            rasterized=True,
        )
        if legend and self.class_names:
            from vae_atlas.viz.style import class_colors

            ax.legend(
                handles=_legend_handles(self.class_names, class_colors(len(self.class_names))),
                loc="center left",
                bbox_to_anchor=(1.01, 0.5),
                fontsize=LABEL_SIZE,
                frameon=False,
                title="class",
            )
        ax.set_xlabel(self.axis_labels[0], fontsize=LABEL_SIZE)
        ax.set_ylabel(self.axis_labels[1], fontsize=LABEL_SIZE)
        ax.set_title(self.title, fontsize=TITLE_SIZE)
        if xlim is not None:
            ax.set_xlim(xlim)
        if ylim is not None:
            ax.set_ylim(ylim)
        ax.grid(alpha=0.25, lw=0.5)
        self.ax_, self.figure_ = ax, fig
        return self


class LatentScatter3DDisplay(FigureDisplay):
    """A 3-D latent space seen from several fixed angles, and as rotating frames for a GIF.

    Attributes set by :meth:`plot`: ``axes_`` (one 3-D axes per angle), ``figure_``.
    """

    ANGLES: tuple[tuple[float, float], ...] = ((20, -60), (20, 30), (80, -90))

    def __init__(
        self,
        coords: np.ndarray,
        labels: np.ndarray | None = None,
        class_names: Sequence[str] | None = None,
        axis_labels: tuple[str, str, str] = ("z1", "z2", "z3"),
        title: str = "Test set in the 3-D latent space",
    ) -> None:
        self.coords = np.asarray(coords, dtype=np.float64)
        if self.coords.ndim != 2 or self.coords.shape[1] != 3:
            raise ValueError(f"expected (N, 3) coordinates, got {self.coords.shape}")
        self.labels = None if labels is None else np.asarray(labels)
        self.class_names = _class_names(self.labels, class_names)
        self.axis_labels = axis_labels
        self.title = title

    def _draw(self, ax: Axes, elev: float, azim: float, size: float) -> None:
        n = len(self.coords)
        colors = label_colors(self.labels, n, len(self.class_names or []) or None)
        ax.scatter(*self.coords.T, s=size, c=colors, alpha=0.6, linewidths=0, depthshade=False)
        ax.view_init(elev=elev, azim=azim)
        for setter, label in zip(
            (ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), self.axis_labels, strict=True
        ):
            setter(label, fontsize=LABEL_SIZE)
        ax.tick_params(labelsize=7, pad=0)

    def plot(
        self, fig: Figure | None = None, *, angles: Sequence[tuple[float, float]] | None = None
    ) -> LatentScatter3DDisplay:
        angles = tuple(angles or self.ANGLES)
        fig = new_figure(fig, (4.0 * len(angles) + 1.2, 4.2))
        size = _point_size(len(self.coords)) * 0.6
        self.axes_ = []
        for i, (elev, azim) in enumerate(angles):
            ax = fig.add_subplot(1, len(angles), i + 1, projection="3d")
            self._draw(ax, elev, azim, size)
            ax.set_title(f"elevation {elev:g}°, azimuth {azim:g}°", fontsize=LABEL_SIZE)
            self.axes_.append(ax)
        if self.class_names:
            from vae_atlas.viz.style import class_colors

            fig.legend(
                handles=_legend_handles(self.class_names, class_colors(len(self.class_names))),
                loc="outside right center",
                fontsize=LABEL_SIZE,
                frameon=False,
                title="class",
            )
        fig.suptitle(self.title, fontsize=TITLE_SIZE)
        self.figure_ = fig
        return self

    def frames(
        self, n_frames: int = 16, *, elev: float = 20.0, size_px: int = 320
    ) -> list[np.ndarray]:
        """RGB frames (H, W, 3) of one full turn around the vertical axis."""
        fig = Figure(figsize=(size_px / 80, size_px / 80), dpi=80, layout="constrained")
        ax = fig.add_subplot(projection="3d")
        self._draw(ax, elev, 0.0, _point_size(len(self.coords)) * 0.8)
        ax.set_title(self.title, fontsize=LABEL_SIZE)
        out = []
        for azim in np.linspace(0, 360, n_frames, endpoint=False):
            ax.view_init(elev=elev, azim=float(azim))
            out.append(render_rgb(fig))
        return out
