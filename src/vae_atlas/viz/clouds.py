"""Posterior clouds: each input is a Gaussian q(z|x), drawn as its mean with 1σ and 2σ ellipses
over the prior's density (Kingma & Welling 2014): N(0, I) with its radius 1, 2, 3 circles, or a
model's own mixture prior (a VampPrior, a hierarchical level's marginal) on the plane with the
regions holding the same masses. Plain autoencoders have no cloud; their codes are drawn as
points."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import EllipseCollection

from vae_atlas.analysis.aggregate import PlaneMixture, highest_density_levels
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, class_colors, label_colors, new_axes


class PosteriorCloudsDisplay(FigureDisplay):
    """Means ``mu`` (N, 2) and standard deviations ``sigma`` (N, 2) or None in two latent dims.

    ``prior``: the model's own prior on this plane, drawn instead of N(0, I).

    Attributes set by :meth:`plot`: ``ax_``, ``figure_``, ``ellipses_`` (one EllipseCollection per
    σ level; empty for a plain AE), ``means_``, ``prior_grid_`` and ``prior_density_`` (the
    backdrop's axis (G,) and density (G, G), rows along the vertical axis).
    """

    def __init__(
        self,
        mu: np.ndarray,
        sigma: np.ndarray | None,
        labels: np.ndarray | None = None,
        class_names: Sequence[str] | None = None,
        axis_labels: tuple[str, str] = ("z1", "z2"),
        title: str = "Posterior clouds over the prior",
        prior: PlaneMixture | None = None,
    ) -> None:
        self.mu = np.asarray(mu, dtype=np.float64)
        self.sigma = None if sigma is None else np.asarray(sigma, dtype=np.float64)
        self.labels = None if labels is None else np.asarray(labels)
        self.class_names = list(class_names) if class_names else None
        self.axis_labels = axis_labels
        self.title = title
        self.prior = prior

    def _draw_ellipses(
        self, ax: Axes, colors: np.ndarray, levels: Sequence[float]
    ) -> list[EllipseCollection]:
        out = []
        for level, alpha in zip(levels, (0.35, 0.15), strict=False):
            coll = EllipseCollection(
                2 * level * self.sigma[:, 0],
                2 * level * self.sigma[:, 1],
                np.zeros(len(self.mu)),
                units="xy",
                offsets=self.mu,
                offset_transform=ax.transData,
                facecolors=colors[:, :3],
                edgecolors=colors[:, :3],
                alpha=alpha,
                linewidths=0.6,
                zorder=2,
            )
            ax.add_collection(coll)
            out.append(coll)
        return out

    def plot(
        self,
        ax: Axes | None = None,
        *,
        extent: float | None = None,
        levels: Sequence[float] = (1, 2),
    ) -> PosteriorCloudsDisplay:
        fig, ax = new_axes(ax, (5.4, 5.0))
        reach = np.abs(self.mu).max() + (0 if self.sigma is None else 2 * self.sigma.max())
        extent = extent or float(max(3.5, min(reach * 1.05, 50)))
        self.prior_grid_, self.prior_density_ = _draw_prior(ax, extent, self.prior)
        n_classes = len(self.class_names) if self.class_names else None
        colors = label_colors(self.labels, len(self.mu), n_classes)
        self.ellipses_ = [] if self.sigma is None else self._draw_ellipses(ax, colors, levels)
        self.means_ = ax.scatter(
            *self.mu.T, s=12, c=colors, edgecolors="k", linewidths=0.4, zorder=3
        )
        if self.class_names:
            from vae_atlas.viz.scatter import _legend_handles

            ax.legend(
                handles=_legend_handles(self.class_names, class_colors(n_classes)),
                loc="center left",
                bbox_to_anchor=(1.01, 0.5),
                fontsize=LABEL_SIZE,
                frameon=False,
                title="class",
            )
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_xlabel(self.axis_labels[0], fontsize=LABEL_SIZE)
        ax.set_ylabel(self.axis_labels[1], fontsize=LABEL_SIZE)
        kind = "mean, 1σ and 2σ ellipses" if self.sigma is not None else "points (no posterior)"
        dashed = "prior radius 1, 2, 3" if self.prior is None else "39/86/99 % of the prior's mass"
        ax.set_title(f"{self.title}\n{kind}; dashed: {dashed}", fontsize=TITLE_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self


# the 2-D mass N(0, I) holds within radius 1, 2, 3: the mixture's dashed regions hold the same
PRIOR_MASSES = tuple(1.0 - math.exp(-0.5 * r * r) for r in (1.0, 2.0, 3.0))


def _draw_prior(
    ax: Axes, extent: float, prior: PlaneMixture | None
) -> tuple[np.ndarray, np.ndarray]:
    """The prior's density in grey, and dashed at the regions holding 39/86/99 % of its mass
    (for N(0, I) the circles of radius 1, 2, 3); returns the grid axis and the density."""
    # 120² points: smooth contours, and a mixture of 1,000 components drawn in about a second
    grid = np.linspace(-extent, extent, 120)
    gx, gy = np.meshgrid(grid, grid)
    if prior is None:
        density = np.exp(-0.5 * (gx**2 + gy**2)) / (2 * np.pi)
        field, levels = np.hypot(gx, gy), [1.0, 2.0, 3.0]
    else:
        points = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (G·G, 2)
        density = prior.density(points).reshape(gx.shape)
        cell = float(grid[1] - grid[0]) ** 2
        field, levels = density, np.unique(highest_density_levels(density, cell, PRIOR_MASSES))
    ax.contourf(gx, gy, density, levels=12, cmap="Greys", alpha=0.45, zorder=0)
    # the dashed regions go over the ellipses: under 60 clouds the inner ones would be hidden
    if len(levels) and float(np.max(density)) > 0:
        ax.contour(gx, gy, field, levels=levels, colors="0.25", linewidths=0.8,
                   linestyles="--", zorder=2.5)  # fmt: skip
    return grid, density
