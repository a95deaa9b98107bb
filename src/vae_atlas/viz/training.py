"""Training figures from ``metrics.jsonl``: −ELBO, reconstruction and KL curves (train vs
held-out), KL per dimension over epochs as a heat map, and how the space formed — the probe set's
codes across epochs after Procrustes alignment, as small multiples and GIF frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vae_atlas.analysis.alignment import AlignedSnapshots
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import (
    LABEL_SIZE,
    TITLE_SIZE,
    label_colors,
    new_axes,
    new_figure,
    render_rgb,
)

_CURVES = (("neg_elbo", "−ELBO (nats)"), ("recon", "reconstruction (nats)"), ("kl", "KL (nats)"))


def _series(metrics: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if m.get(key) is None else float(m[key]) for m in metrics])


class TrainingCurvesDisplay(FigureDisplay):
    """Three panels (−ELBO, reconstruction, KL) with train, validation (when recorded) and test
    curves over epochs.
    Attributes: ``axes_``, ``figure_``, ``lines_`` (the drawn Line2D objects)."""

    def __init__(self, metrics: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
        if not metrics:
            raise ValueError("no metrics to draw")
        self.metrics = list(metrics)
        self.title = title

    def plot(self, fig: Figure | None = None) -> TrainingCurvesDisplay:
        fig = new_figure(fig, (11.0, 3.2))
        self.axes_ = fig.subplots(1, 3).tolist()
        epochs = _series(self.metrics, "epoch")
        self.lines_ = []
        for ax, (key, label) in zip(self.axes_, _CURVES, strict=True):
            drawn = False
            for split, style in (("train", "-"), ("val", ":"), ("test", "--")):
                values = _series(self.metrics, f"{split}_{key}")
                if np.isfinite(values).any():
                    (line,) = ax.plot(epochs, values, style, lw=1.5, label=split)
                    self.lines_.append(line)
                    drawn = True
            if drawn:
                ax.legend(fontsize=LABEL_SIZE, frameon=False)
                _robust_ylim(ax, self.metrics, key)
            else:
                ax.text(
                    0.5,
                    0.5,
                    "not recorded\n(plain autoencoder: no KL)",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=LABEL_SIZE,
                    color="0.4",
                )
                ax.set_xticks([])
                ax.set_yticks([])
            ax.set_xlabel("epoch", fontsize=LABEL_SIZE)
            ax.set_title(label, fontsize=TITLE_SIZE)
            ax.grid(alpha=0.3, lw=0.5)
        if self.title:  # the panels' own titles say what they show; a report card names it
            fig.suptitle(self.title, fontsize=TITLE_SIZE + 1, fontweight="bold")
        self.figure_ = fig
        return self


def _robust_ylim(ax: Axes, metrics: Sequence[Mapping[str, Any]], key: str) -> None:
    """Ignore the untrained epoch 0 when it dwarfs the rest, so the curve's shape stays visible."""
    splits = ("train", "val", "test")
    values = np.concatenate([_series(metrics[1:], f"{s}_{key}") for s in splits])
    values = values[np.isfinite(values)]
    if values.size < 2:
        return
    lo, hi = np.percentile(values, [0, 100])
    span = hi - lo or abs(hi) or 1.0
    ax.set_ylim(lo - 0.08 * span, hi + 0.25 * span)


class KLHeatmapDisplay(FigureDisplay):
    """Held-out KL per latent dimension (rows) over epochs (columns). Attributes: ``ax_``,
    ``figure_``, ``image_``."""

    def __init__(self, epochs: np.ndarray, kl: np.ndarray, title: str = "KL per dimension") -> None:
        self.epochs = np.asarray(epochs)
        self.kl = np.asarray(kl, dtype=np.float64)  # (E, D)

    @classmethod
    def from_metrics(cls, metrics: Sequence[Mapping[str, Any]]) -> KLHeatmapDisplay:
        rows = [m for m in metrics if m.get("test_kl_per_dim") is not None]
        if not rows:
            raise ValueError("the metrics hold no test_kl_per_dim (a plain autoencoder?)")
        return cls(
            np.array([m["epoch"] for m in rows]), np.array([m["test_kl_per_dim"] for m in rows])
        )

    def plot(self, ax: Axes | None = None) -> KLHeatmapDisplay:
        d = self.kl.shape[1]
        fig, ax = new_axes(ax, (7.0, min(0.28 * d + 1.6, 7)))
        self.image_ = ax.imshow(
            self.kl.T,
            aspect="auto",
            origin="lower",
            cmap="viridis",
            interpolation="nearest",
            extent=(self.epochs[0] - 0.5, self.epochs[-1] + 0.5, 0.5, d + 0.5),
        )
        cbar = fig.colorbar(self.image_, ax=ax, pad=0.01)
        cbar.set_label("KL (nats)", fontsize=LABEL_SIZE)
        ax.set_yticks(
            np.arange(1, d + 1),
            [f"z{i}" for i in range(1, d + 1)],
            fontsize=7 if d > 12 else LABEL_SIZE,
        )
        ax.set_xlabel("epoch", fontsize=LABEL_SIZE)
        ax.set_title("Held-out KL per dimension over training", fontsize=TITLE_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self


class SnapshotsDisplay(FigureDisplay):
    """The probe set's codes at a few epochs, aligned to the final epoch, with shared axes.
    Attributes: ``axes_``, ``figure_``."""

    def __init__(
        self,
        aligned: AlignedSnapshots,
        labels: np.ndarray | None = None,
        n_classes: int | None = None,
    ) -> None:
        self.aligned = aligned
        self.labels = None if labels is None else np.asarray(labels)
        self.n_classes = n_classes

    def pick(self, n_panels: int) -> np.ndarray:
        """Indices of up to ``n_panels`` epochs, spread log-uniformly (early epochs move most)."""
        e = len(self.aligned.epochs)
        if e <= n_panels:
            return np.arange(e)
        raw = np.unique(np.round(np.geomspace(1, e, n_panels)).astype(int) - 1)
        return np.unique(np.concatenate([[0], raw, [e - 1]]))[:n_panels]

    def _limits(self) -> tuple[float, float, float, float]:
        pts = self.aligned.coords[-1]
        lo, hi = np.percentile(pts, [0.5, 99.5], axis=0)
        pad = 0.15 * (hi - lo + 1e-9)
        return lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]

    def _draw(self, ax: Axes, i: int, limits: tuple[float, float, float, float]) -> None:
        pts = self.aligned.coords[i]
        colors = label_colors(self.labels, len(pts), self.n_classes)
        ax.scatter(pts[:, 0], pts[:, 1], s=5, c=colors, linewidths=0, alpha=0.8)
        ax.set_xlim(limits[:2])
        ax.set_ylim(limits[2:])
        ax.set_title(f"epoch {int(self.aligned.epochs[i])}", fontsize=LABEL_SIZE)
        ax.tick_params(labelsize=6)

    def plot(self, fig: Figure | None = None, *, n_panels: int = 8) -> SnapshotsDisplay:
        picked = self.pick(n_panels)
        ncols = min(4, len(picked))
        nrows = -(-len(picked) // ncols)
        fig = new_figure(fig, (2.6 * ncols, 2.5 * nrows + 0.5))
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True).ravel()
        limits = self._limits()
        for ax, i in zip(axes, picked, strict=False):
            self._draw(ax, int(i), limits)
        for ax in axes[len(picked) :]:
            ax.set_visible(False)
        fig.suptitle(
            f"How the space formed (probe set, Procrustes-aligned to the last epoch; "
            f"axes {self.aligned.axis_labels[0]}, {self.aligned.axis_labels[1]})",
            fontsize=TITLE_SIZE,
        )
        self.axes_ = axes[: len(picked)].tolist()
        self.figure_ = fig
        return self

    def frames(self, *, max_frames: int = 30, size_px: int = 320) -> list[np.ndarray]:
        """RGB frames, one per (sub-sampled) epoch, with fixed axes."""
        fig = Figure(figsize=(size_px / 80, size_px / 80), dpi=80, layout="constrained")
        ax = fig.add_subplot()
        limits = self._limits()
        out = []
        for i in self.pick(max_frames):
            ax.clear()
            self._draw(ax, int(i), limits)
            out.append(render_rgb(fig))
        return out
