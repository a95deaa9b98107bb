"""The side-by-side figures of a comparison report: one panel per run, shared axes where the runs'
spaces are comparable (same latent size; 2-D spaces share limits so far-flung codes show)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from vae_atlas.analysis.aggregate import plane_prior
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.analysis.interpolation import Interpolation, interpolation_path
from vae_atlas.analysis.sampling import spread_index
from vae_atlas.report import health_figures as health
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.report.latent_figures import manifold
from vae_atlas.viz import (
    AggregateDisplay,
    InterpolationDisplay,
    LatentScatterDisplay,
    PosteriorCloudsDisplay,
    plot_image_grid,
)

SPACE, GENERATE, WALK = "Latent space", "Decoding and generating", "Walking the space"


def _row(n: int, width: float = 4.6, height: float = 4.4) -> tuple[Figure, list]:
    fig = Figure(figsize=(width * n + 1.0, height), layout="constrained")
    return fig, list(fig.subplots(1, n, squeeze=False)[0])


def _shared_2d(contexts: list[AtlasContext]) -> bool:
    return all(c.latents.latent_dim == 2 for c in contexts)


def shared_limits(coords: list[np.ndarray], *, minimum: float = 3.0) -> tuple[float, float]:
    """Symmetric limits holding every run's codes (99.9th percentile of |z|) and the prior's
    ±``minimum`` — so a plain AE's far-flung codes and a VAE's compact cloud share one scale."""
    reach = max(float(np.percentile(np.abs(c), 99.9)) for c in coords)
    lim = max(minimum, reach) * 1.08
    return -lim, lim


def add_scatters(contexts: list[AtlasContext], w: FigureWriter) -> None:
    shared = _shared_2d(contexts)
    method = "identity" if shared else "pca"

    def draw() -> Figure:
        n = len(contexts)
        projs = [c.projection(method if c.latents.latent_dim > 2 else "identity") for c in contexts]
        rows = 2 if shared else 1
        fig = Figure(figsize=(4.6 * n + 1.0, 4.4 * rows), layout="constrained")
        grid = fig.subplots(rows, n, squeeze=False)
        lims = shared_limits([p.coords for p in projs]) if shared else None
        for row, limits in enumerate([lims, (-4.0, 4.0)][:rows]):
            for i, (ax, c, p) in enumerate(zip(grid[row], contexts, projs, strict=True)):
                title = c.source.name + (" (zoom on the prior, ±4)" if row else "")
                LatentScatterDisplay.from_latents(c.latents, p, c.class_names, title=title).plot(
                    ax=ax, legend=row == 0 and i == n - 1, xlim=limits, ylim=limits
                )
                if shared:
                    ax.add_patch(Circle((0, 0), 2.0, fill=False, ls="--", lw=1, color="0.3"))
                    ax.set_aspect("equal")
        return fig

    shared_text = (
        "All panels share the same axes (latent units); the dashed circle is radius 2, "
        "which holds 86% of the prior N(0, I). "
        if shared
        else "Each panel is its run's own PCA plane, so the axes are not comparable. "
    )
    w.add(
        "cmp-scatter",
        SPACE,
        "Latent scatter",
        shared_text + "A plain autoencoder is free to "
        "put codes anywhere; the VAE's KL term pulls them into a compact cloud that matches "
        "the prior, and a larger β pulls harder.",
        draw,
    )


def add_clouds(contexts: list[AtlasContext], w: FigureWriter) -> None:
    first = contexts[0].test.images
    same = all(
        c.test.images.shape == first.shape and bool((c.test.images == first).all())
        for c in contexts[1:]
    )
    if not (_shared_2d(contexts) and same):
        return

    def draw() -> Figure:
        fig, axes = _row(len(contexts))
        subsets = []
        for c in contexts:
            index = spread_index(c.latents.labels, 40, len(c.latents), seed=c.options.seed)
            subsets.append(c.latents.subset(index))
        for i, (ax, c, s) in enumerate(zip(axes, contexts, subsets, strict=True)):
            PosteriorCloudsDisplay(
                s.mu,
                s.sigma,
                s.labels,
                c.class_names if i == len(contexts) - 1 else None,
                title=c.source.name,
                prior=plane_prior(c.prior, (0, 1)),
            ).plot(ax=ax)
        return fig

    w.add(
        "cmp-clouds",
        SPACE,
        "Posterior clouds",
        "The same 40 test inputs in each run over the prior's density; each panel is scaled "
        "to its own codes (dashed: the regions holding 39/86/99 % of each run's prior — radius "
        "1, 2, 3 for N(0, I) — give the scale). VAE "
        "inputs are overlapping clouds that tile the prior; an autoencoder's are isolated "
        "points with nothing in between.",
        draw,
    )


def add_image_panels(
    contexts: list[AtlasContext],
    w: FigureWriter,
    key: str,
    title: str,
    caption: str,
    images: Callable[[AtlasContext], np.ndarray],
) -> None:
    def draw() -> Figure:
        fig, axes = _row(len(contexts), 4.4, 2.8)
        for ax, c in zip(axes, contexts, strict=True):
            plot_image_grid(images(c), ncols=10, ax=ax, title=c.source.name)
        return fig

    w.add(f"cmp-{key}", GENERATE, title, caption, draw)


def add_manifolds(contexts: list[AtlasContext], w: FigureWriter) -> None:
    def draw() -> Figure:
        fig, axes = _row(len(contexts), 4.6, 4.9)
        for ax, c in zip(axes, contexts, strict=True):
            display, _ = manifold(c)
            display.title = c.source.name
            display.plot(ax=ax)
        return fig

    w.add(
        "cmp-manifold",
        GENERATE,
        "Decoded manifold",
        "Each run's decoder over the same prior-quantile grid (the central 2-D plane of the "
        "prior for 2-D runs). The VAE's grid morphs smoothly between classes; the "
        "autoencoder's is dominated by a few shapes, since the prior's centre is not where its "
        "codes live.",
        draw,
    )


def add_interpolations(
    contexts: list[AtlasContext], w: FigureWriter, pair: tuple[int, int], how: str
) -> None:
    a, b = pair

    def draw() -> Figure:
        rows = []
        for c in contexts:
            steps = c.options.interpolation_steps
            z = interpolation_path(c.latents.mu[a], c.latents.mu[b], steps, "linear")
            rows.append(
                Interpolation(
                    c.source.name,
                    np.linspace(0, 1, steps),
                    z,
                    decode_latents(c.source.model, z),
                    c.images[[a, b]],
                    a,
                    b,
                )
            )
        title = "Linear interpolation, same two inputs"
        return InterpolationDisplay(rows, title=title).plot().figure_

    w.add(
        "cmp-interpolation",
        WALK,
        "Interpolation",
        f"The same two test inputs (#{a}, #{b}) and the straight path between their codes in "
        "each run (rows). Look for gradual morphing (continuous space) versus sudden jumps or "
        f"implausible middles. {how}.",
        draw,
    )


def add_aggregates(contexts: list[AtlasContext], w: FigureWriter) -> None:
    def draw() -> Figure:
        fig = Figure(figsize=(10.5, 4.4 * len(contexts)), layout="constrained")
        for sub, c in zip(
            fig.subfigures(len(contexts), 1, squeeze=False)[:, 0], contexts, strict=True
        ):
            AggregateDisplay(health.density(c)).plot(fig=sub)
            sub.suptitle(c.source.name, fontsize=12, fontweight="bold")
        return fig

    holes = ", ".join(f"{c.source.name} {health.holes(c):.0%}" for c in contexts)
    w.add(
        "cmp-aggregate",
        "Prior fit",
        "Aggregate posterior vs prior",
        f"Per run: where the encoded data lives against the prior, and the holes (red, "
        f"hatched). Prior mass in holes, in all dimensions: {holes}.",
        draw,
    )


def add_training(contexts: list[AtlasContext], w: FigureWriter) -> None:
    if not all(c.source.metrics for c in contexts):
        return

    def draw() -> Figure:
        fig, axes = _row(3, 3.6, 3.3)
        for c in contexts:
            epochs = [m["epoch"] for m in c.source.metrics]
            for ax, key in zip(axes, ("test_neg_elbo", "test_recon", "test_kl"), strict=True):
                values = [np.nan if m.get(key) is None else m[key] for m in c.source.metrics]
                ax.plot(epochs[1:], values[1:], marker="o", ms=3, label=c.source.name)
        for ax, name in zip(
            axes, ("held-out −ELBO", "held-out reconstruction", "held-out KL"), strict=True
        ):
            ax.set_title(f"{name} (nats)", fontsize=11)
            ax.set_xlabel("epoch", fontsize=9)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8, frameon=False)
        return fig

    w.add(
        "cmp-training",
        "Training",
        "Held-out curves",
        "Held-out −ELBO, reconstruction and KL per epoch for every run on one axis each. A plain "
        "autoencoder has no KL and so no ELBO (only its reconstruction curve is drawn); it "
        "reconstructs best because nothing constrains its codes.",
        draw,
    )
