"""Image sequences: interpolations between two inputs, per-dimension traversals (also as GIF
frames) and attribute edits ("make the 4 a 9")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from vae_atlas.analysis.attributes import AttributeEdit
from vae_atlas.analysis.interpolation import Interpolation
from vae_atlas.analysis.traversal import Traversal
from vae_atlas.viz.display import FigureDisplay
from vae_atlas.viz.style import (
    LABEL_SIZE,
    TITLE_SIZE,
    image_mosaic,
    new_axes,
    new_figure,
    render_rgb,
    show_image,
)


def _strip(images: np.ndarray, pad: int = 1) -> np.ndarray:
    return image_mosaic(images, len(images), pad=pad)


class InterpolationDisplay(FigureDisplay):
    """One row per :class:`Interpolation` (e.g. linear and slerp): the first original, the
    decoded path, the second original. Attributes: ``axes_``, ``figure_``."""

    def __init__(self, interpolations: Sequence[Interpolation], title: str | None = None) -> None:
        if not interpolations:
            raise ValueError("no interpolations to draw")
        self.interpolations = list(interpolations)
        self.title = title

    def plot(self, fig: Figure | None = None) -> InterpolationDisplay:
        rows = len(self.interpolations)
        steps = len(self.interpolations[0].images)
        width = min(0.62 * (steps + 2) + 1.4, 12)
        row_height = 0.9 * (width - 1.4) / (steps + 3) + 0.3  # one image tall + tick labels
        fig = new_figure(fig, (width, row_height * rows + 0.6))
        self.axes_ = fig.subplots(rows, 1, squeeze=False)[:, 0].tolist()
        for ax, interp in zip(self.axes_, self.interpolations, strict=True):
            _, _, h, w = interp.images.shape
            gap = max(2, w // 5)
            parts = [
                _strip(interp.originals[:1]),
                _strip(interp.images),
                _strip(interp.originals[1:]),
            ]
            white = np.ones((parts[0].shape[0], gap, *parts[0].shape[2:]), dtype=np.float32)
            show_image(ax, np.concatenate([parts[0], white, parts[1], white, parts[2]], axis=1))
            ax.set_yticks([h / 2], [interp.method], fontsize=LABEL_SIZE)
            centres = [w / 2 - 0.5] + [w + gap + j * (w + 1) + w / 2 - 0.5 for j in range(steps)]
            centres.append(w + 2 * gap + steps * (w + 1) - 1 + w / 2 - 0.5)
            labels = [
                f"input #{interp.index_a}",
                *[f"{t:.2g}" for t in interp.t],
                f"input #{interp.index_b}",
            ]
            ax.set_xticks(centres, labels, fontsize=6)
        self.axes_[-1].set_xlabel(
            "path position t (decoded) between the two inputs", fontsize=LABEL_SIZE
        )
        fig.suptitle(self.title or "Interpolation between two encoded inputs", fontsize=TITLE_SIZE)
        self.figure_ = fig
        return self


class TraversalDisplay(FigureDisplay):
    """Rows = latent dimensions (most informative first), columns = swept values; inactive
    dimensions are shaded and labelled. Attributes: ``ax_``, ``figure_``, ``shaded_``."""

    def __init__(self, traversal: Traversal, title: str | None = None) -> None:
        self.traversal = traversal
        self.title = title

    def _row_labels(self) -> list[str]:
        t = self.traversal
        unit = "nats" if t.score_name.startswith("KL") else "var"
        labels = [
            f"z{d + 1}  {s:.2f} {unit}" + ("" if a else " (inactive)")
            for d, s, a in zip(t.dims, t.score, t.active, strict=True)
        ]
        if t.unit == "prior σ":
            return labels
        ends = [t.swept(r)[[0, -1]] for r in range(len(labels))]
        return [
            f"{label}\n{lo:+.1f} … {hi:+.1f}" for label, (lo, hi) in zip(labels, ends, strict=True)
        ]

    def plot(self, ax: Axes | None = None) -> TraversalDisplay:
        t = self.traversal
        n_dims, steps, _, h, w = t.images.shape
        fig, ax = new_axes(ax, (min(0.6 * steps + 2.4, 10), 0.6 * n_dims + 1.0))
        show_image(ax, image_mosaic(t.images.reshape(n_dims * steps, *t.images.shape[2:]), steps))
        ax.set_yticks(
            [r * (h + 1) + h / 2 for r in range(n_dims)], self._row_labels(), fontsize=LABEL_SIZE
        )
        ax.set_xticks(
            [c * (w + 1) + w / 2 for c in range(steps)], [f"{v:+.1f}" for v in t.values], fontsize=7
        )
        ax.set_xlabel(_sweep_label(t), fontsize=LABEL_SIZE)
        self.shaded_ = []
        for r, active in enumerate(t.active):
            if not active:
                rect = Rectangle(
                    (-0.5, r * (h + 1) - 0.5),
                    steps * (w + 1) - 1,
                    h,
                    facecolor="0.6",
                    alpha=0.55,
                    edgecolor="none",
                )
                ax.add_patch(rect)
                self.shaded_.append(rect)
        ax.set_title(
            self.title or f"Traversals, dimensions sorted by {t.score_name}", fontsize=TITLE_SIZE
        )
        self.ax_, self.figure_ = ax, fig
        return self

    def frames(self, *, size_px: int = 96) -> list[np.ndarray]:
        """RGB frames sweeping all shown dimensions together, −limit → +limit → −limit."""
        t = self.traversal
        n_dims, steps, _, h, w = t.images.shape
        # at least 3.4 in wide so the two-line title fits even for a 2-D space
        fig = Figure(
            figsize=(max(n_dims * size_px / 80, 3.4), size_px / 80 + 0.75),
            dpi=80,
            layout="constrained",
        )
        ax = fig.add_subplot()
        show_image(ax, image_mosaic(t.images[:, 0], n_dims, pad=2))
        ax.set_xticks(
            [c * (w + 2) + w / 2 - 0.5 for c in range(n_dims)],
            [f"z{d + 1}" + ("" if a else "*") for d, a in zip(t.dims, t.active, strict=True)],
            fontsize=8,
        )
        image = ax.get_images()[0]
        order = list(range(steps)) + list(range(steps - 2, 0, -1))
        out = []
        for j in order:
            image.set_data(image_mosaic(t.images[:, j], n_dims, pad=2))
            ax.set_title(
                f"each dimension alone at {t.values[j]:+.2f}\n{t.unit}  (* inactive)", fontsize=9
            )
            out.append(render_rgb(fig))
        return out


def _sweep_label(t: Traversal) -> str:
    if t.unit == "prior σ":
        return "value of the swept dimension (prior σ units)"
    return "k: the swept dimension at its codes' mean + k × their std"


class AttributeDisplay(FigureDisplay):
    """An input, then its code moved along an attribute direction in steps α. Attributes:
    ``ax_``, ``figure_``."""

    def __init__(self, edit: AttributeEdit, title: str | None = None) -> None:
        self.edit = edit
        self.title = title

    def plot(self, ax: Axes | None = None) -> AttributeDisplay:
        e = self.edit
        steps, _, h, w = e.images.shape
        fig, ax = new_axes(ax, (min(0.62 * (steps + 2) + 0.8, 10), 1.9))
        gap = max(2, w // 5)
        first, rest = _strip(e.original[None]), _strip(e.images)
        white = np.ones((first.shape[0], gap, *first.shape[2:]), dtype=np.float32)
        show_image(ax, np.concatenate([first, white, rest], axis=1))
        centres = [w / 2 - 0.5] + [w + gap + j * (w + 1) + w / 2 - 0.5 for j in range(steps)]
        labels = ["input", *[f"α={a:.2f}" + (" (recon)" if a == 0 else "") for a in e.alphas]]
        ax.set_xticks(centres, labels, fontsize=7)
        ax.set_title(self.title or f"Attribute direction: {e.direction.name}", fontsize=TITLE_SIZE)
        self.ax_, self.figure_ = ax, fig
        return self
