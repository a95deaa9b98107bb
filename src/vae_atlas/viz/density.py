"""Aggregate posterior vs prior: where the encoded data lives against N(0, I), with the "holes"
— prior regions the data never uses — hatched (Makhzani et al. 2016; Hoffman & Johnson 2016)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.analysis.aggregate import HOLE_RATIO, AggregateDensity
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, new_figure


class AggregateDisplay(FigureDisplay):
    """Two panels: the aggregate posterior q(z) with the prior's contours, and the holes map
    (q / p on a log scale, holes hatched). Attributes: ``axes_``, ``figure_``."""

    def __init__(self, density: AggregateDensity, axis_labels: tuple[str, str] | None = None):
        self.density = density
        d0, d1 = density.dims
        self.axis_labels = axis_labels or (f"z{d0 + 1}", f"z{d1 + 1}")

    def plot(self, fig: Figure | None = None) -> AggregateDisplay:
        d = self.density
        fig = new_figure(fig, (10.5, 4.6))
        axes = fig.subplots(1, 2)
        ext = (d.axis[0], d.axis[-1], d.axis[0], d.axis[-1])
        img = axes[0].imshow(
            d.q, origin="lower", extent=ext, cmap="magma", interpolation="bilinear"
        )
        fig.colorbar(img, ax=axes[0], shrink=0.85, label="q(z) density")
        axes[0].contour(
            d.axis, d.axis, d.p, levels=_prior_levels(), colors="w", linewidths=0.8, linestyles="--"
        )
        outside = f"\n{d.outside:.1%} of the means lie outside this window" if d.outside > 0 else ""
        axes[0].set_title(
            f"Aggregate posterior q(z), prior contours dashed{outside}", fontsize=TITLE_SIZE
        )
        ratio = np.log10(np.maximum(d.q, 1e-12) / d.p)
        # beyond radius 3.5 the prior has almost no mass, so the ratio says nothing: blank it
        faint = d.p < _density_at(3.5)
        ratio = np.ma.masked_where(faint, np.clip(ratio, -2, 2))
        axes[1].set_facecolor("0.93")
        img = axes[1].imshow(
            ratio,
            origin="lower",
            extent=ext,
            cmap="RdBu",
            vmin=-2,
            vmax=2,
            interpolation="bilinear",
        )
        cb = fig.colorbar(img, ax=axes[1], shrink=0.85)
        cb.set_label("log10 q(z) / p(z)", fontsize=LABEL_SIZE)
        holes = (d.holes & ~faint).astype(float)
        if holes.any():
            axes[1].contourf(
                d.axis, d.axis, holes, levels=[0.5, 1.5], colors="none", hatches=["///"]
            )
        axes[1].contour(
            d.axis, d.axis, d.p, levels=_prior_levels(), colors="k", linewidths=0.6, linestyles="--"
        )
        axes[1].set_title(
            f"Holes on this plane (hatched: q < {HOLE_RATIO:g}·p)\n"
            "red: prior mass the data never uses",
            fontsize=TITLE_SIZE,
        )
        for ax in axes:
            ax.set_xlabel(self.axis_labels[0], fontsize=LABEL_SIZE)
            ax.set_ylabel(self.axis_labels[1], fontsize=LABEL_SIZE)
        self.axes_, self.figure_ = axes.tolist(), fig
        return self


def _density_at(radius: float) -> float:
    """Density of N(0, I₂) at distance ``radius`` from the origin."""
    return float(np.exp(-0.5 * radius * radius) / (2 * np.pi))


def _prior_levels() -> list[float]:
    """Density of N(0, I₂) at radius 3, 2, 1 (ascending)."""
    return [_density_at(r) for r in (3.0, 2.0, 1.0)]
