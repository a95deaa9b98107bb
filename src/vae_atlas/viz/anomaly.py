"""Anomaly figures: the histogram of −ELBO scores (with an out-of-distribution set overlaid and its
ROC curve), and the most and least anomalous inputs with their scores."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.analysis.anomaly import OODResult
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import LABEL_SIZE, TITLE_SIZE, new_figure, show_image, to_hwc


class AnomalyDisplay(FigureDisplay):
    """Score histogram, plus the ROC curve when an OOD set is given. Attributes: ``axes_``,
    ``figure_``."""

    def __init__(
        self, scores: np.ndarray, ood: OODResult | None = None, in_name: str = "test set"
    ) -> None:
        self.scores = np.asarray(scores, dtype=np.float64)
        self.ood = ood
        self.in_name = in_name

    def plot(self, fig: Figure | None = None) -> AnomalyDisplay:
        fig = new_figure(fig, (10.0 if self.ood else 5.8, 3.8))
        axes = fig.subplots(1, 2 if self.ood else 1, squeeze=False)[0]
        ax = axes[0]
        all_scores = (
            self.scores if self.ood is None else np.concatenate([self.scores, self.ood.scores_out])
        )
        lo, hi = np.percentile(all_scores, [0, 99.5])
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 60)
        ax.hist(
            np.clip(self.scores, lo, hi),
            bins=bins,
            alpha=0.75,
            label=self.in_name,
            density=self.ood is not None,
        )
        if self.ood is not None:
            ax.hist(
                np.clip(self.ood.scores_out, lo, hi),
                bins=bins,
                alpha=0.6,
                color="C3",
                label=self.ood.name,
                density=True,
            )
            ax.legend(fontsize=LABEL_SIZE, frameon=False)
        ax.set_xlabel(
            "anomaly score −ELBO (nats)\nlast bin: everything above the 99.5th percentile",
            fontsize=LABEL_SIZE,
        )
        ax.set_ylabel("density" if self.ood else "inputs", fontsize=LABEL_SIZE)
        ax.set_title("Score distribution", fontsize=TITLE_SIZE)
        if self.ood is not None:
            roc = axes[1]
            roc.plot(self.ood.fpr, self.ood.tpr, lw=2, color="C3")
            roc.plot([0, 1], [0, 1], ls=":", color="0.5")
            roc.set_xlabel(f"false positive rate ({self.in_name})", fontsize=LABEL_SIZE)
            roc.set_ylabel(f"true positive rate ({self.ood.name})", fontsize=LABEL_SIZE)
            roc.set_title(
                f"ROC: telling {self.ood.name} apart, AUC = {self.ood.auc:.3f}", fontsize=TITLE_SIZE
            )
            roc.set_aspect("equal")
        self.axes_, self.figure_ = axes.tolist(), fig
        return self


def plot_anomaly_examples(
    most: np.ndarray,
    most_scores: np.ndarray,
    least: np.ndarray,
    least_scores: np.ndarray,
    *,
    error_maps: np.ndarray | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Rows of inputs (N, C, H, W): the most anomalous (top), optionally their reconstruction
    error maps (N, H, W), and the most typical, each input titled with its −ELBO."""
    k = max(len(most), len(least))
    rows = [(most, most_scores, "most anomalous"), (least, least_scores, "most typical")]
    fig = new_figure(fig, (1.05 * k + 0.8, 1.5 * (len(rows) + (error_maps is not None))))
    axes = fig.subplots(len(rows) + (error_maps is not None), k, squeeze=False)
    if error_maps is not None:
        _error_row(axes[1], error_maps)
        axes = axes[[0, 2]]
    for r, (images, scores, name) in enumerate(rows):
        for c in range(k):
            ax = axes[r, c]
            if c < len(images):
                show_image(ax, to_hwc(images[c]))
                ax.set_title(f"{scores[c]:.1f}", fontsize=7)
            else:
                ax.set_visible(False)
        axes[r, 0].set_ylabel(name, fontsize=LABEL_SIZE)
    fig.suptitle("Inputs ranked by −ELBO (nats)", fontsize=TITLE_SIZE)
    return fig


def _error_row(axes: np.ndarray, maps: np.ndarray) -> None:
    top = float(np.max(maps)) or 1.0
    for c, ax in enumerate(axes):
        if c < len(maps):
            ax.imshow(maps[c], cmap="Greys", vmin=0.0, vmax=top, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.set_visible(False)
    axes[0].set_ylabel("|x − x̂|", fontsize=LABEL_SIZE)
