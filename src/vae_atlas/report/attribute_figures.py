"""The report's attribute section, drawn when the dataset carries attributes (CelebA, or an
image folder trained with ``--attributes``): the codes coloured by attribute, each chosen
attribute's direction added and removed, which dimensions carry each attribute with a linear
probe's held-out score, and latent arithmetic A − B + C."""

from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.analysis.attribute_scores import (
    analogy_indices,
    attribute_direction,
    choose_attributes,
    score_attributes,
)
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz.attributes import (
    AnalogyDisplay,
    AttributeScatterDisplay,
    AttributeTableDisplay,
    DirectionGridDisplay,
)

SECTION = "Attributes"
ALPHAS = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
ROWS_PER_SIDE = 2  # direction figure: this many inputs without the attribute, as many with it
ANALOGY_ROWS = 4
MAX_SCATTERS = 8


def attribute_values(ctx: AtlasContext) -> tuple[tuple[str, ...], np.ndarray] | None:
    """The attribute names and the test codes' values (N, A), or None without attributes."""
    names = ctx.source.dataset.attribute_names
    if names is None or ctx.test.attributes is None:
        return None
    return names, ctx.test.attributes.numpy().astype(np.float64)[: len(ctx.latents)]


def check_attribute_choice(ctx: AtlasContext) -> None:
    """Fail early (ValueError) when ``--attribute`` names what the data does not carry."""
    if not ctx.options.attributes:
        return
    found = attribute_values(ctx)
    if found is None:
        raise ValueError("--attribute: this run's dataset carries no attributes")
    choose_attributes(found[0], found[1], ctx.options.attributes)


def add_attributes(ctx: AtlasContext, w: FigureWriter) -> None:
    found = attribute_values(ctx)
    if found is None:
        return
    names, values = found
    chosen = choose_attributes(names, values, ctx.options.attributes)
    mu = ctx.latents.mu
    _add_scatter(ctx, w, names, values, chosen)
    for a in chosen:
        _add_direction(ctx, w, names[a], values[:, a])
    scores = score_attributes(mu, values, names, seed=ctx.options.seed)
    w.add(
        "attribute-table",
        SECTION,
        "Which dimensions carry each attribute",
        "|Correlation| between each attribute and each latent dimension's means on the test "
        "set; beside each name, a linear probe's accuracy on held-out codes (logistic regression "
        f"fitted on {scores.n_fit} codes, scored on {scores.n_held_out}) against the accuracy of "
        "always guessing the commoner value (R² of a ridge regression for continuous ones).",
        lambda: AttributeTableDisplay(scores).plot().figure_,
    )
    if chosen:
        _add_analogy(ctx, w, names[chosen[0]], values[:, chosen[0]])


def _add_scatter(
    ctx: AtlasContext, w: FigureWriter, names: tuple[str, ...], values: np.ndarray, chosen: list
) -> None:
    continuous = [
        a for a in range(len(names)) if a not in chosen and np.unique(values[:, a]).size > 2
    ]
    shown = (chosen + continuous)[:MAX_SCATTERS]
    two_d = ctx.latents.latent_dim == 2
    xy = ctx.projection("identity" if two_d else "pca").coords
    label = "z" if two_d else "PCA"

    def draw() -> Figure:
        cols = min(4, len(shown))
        rows = -(-len(shown) // cols)
        fig = Figure(figsize=(3.4 * cols, 3.2 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, a in zip(axes, shown, strict=False):
            AttributeScatterDisplay(xy, values[:, a], names[a], label).plot(ax)
        for ax in axes[len(shown) :]:
            ax.set_axis_off()
        return fig

    where = "the latent plane" if two_d else "the test codes' two principal directions"
    w.add(
        "attribute-scatter",
        SECTION,
        "Codes coloured by attribute",
        f"The test codes in {where}, coloured by attribute (binary: with / without; continuous: "
        "a colour bar).",
        draw,
    )


def _add_direction(ctx: AtlasContext, w: FigureWriter, name: str, column: np.ndarray) -> None:
    mu = ctx.latents.mu
    direction = attribute_direction(mu, column, name)
    rng = np.random.default_rng(ctx.options.seed)
    has = column > 0.5
    rows = [
        *rng.choice(
            np.flatnonzero(~has), size=min(ROWS_PER_SIDE, int((~has).sum())), replace=False
        ),
        *rng.choice(np.flatnonzero(has), size=min(ROWS_PER_SIDE, int(has.sum())), replace=False),
    ]
    z = mu[rows][:, None, :] + ALPHAS[None, :, None] * direction.vector  # (R, S, D)
    images = decode_latents(ctx.source.model, z.reshape(-1, mu.shape[1]))
    images = images.reshape(len(rows), len(ALPHAS), *images.shape[1:])  # (R, S, C, H, W)
    labels = [f"#{i} ({'with' if has[i] else 'without'})" for i in rows]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    w.add(
        f"attribute-{slug}",
        SECTION,
        f"Direction: {name}",
        f"The mean test code with {name} minus the mean without it ({direction.n_with} vs "
        f"{direction.n_without} inputs), times α, added to inputs without {name} (top rows) and "
        "with it (bottom rows): α > 0 adds it, α < 0 removes it, α = 0 is the reconstruction.",
        lambda: (
            DirectionGridDisplay(images, ALPHAS, labels, f"{name}: code + α · direction")
            .plot()
            .figure_
        ),
    )


def _add_analogy(ctx: AtlasContext, w: FigureWriter, name: str, column: np.ndarray) -> None:
    mu = ctx.latents.mu
    try:
        triples = analogy_indices(mu, column > 0.5, ANALOGY_ROWS, seed=ctx.options.seed)
    except ValueError as exc:
        w.notes.append(f"Latent arithmetic: not drawn ({exc})")
        return
    result = decode_latents(
        ctx.source.model, mu[triples[:, 0]] - mu[triples[:, 1]] + mu[triples[:, 2]]
    )
    inputs = ctx.images[triples]  # (R, 3, C, H, W)
    images = np.concatenate([inputs, result[:, None]], axis=1)  # (R, 4, C, H, W)
    w.add(
        "attribute-arithmetic",
        SECTION,
        f"Latent arithmetic: {name}",
        f"A has {name}; B is the input without it whose code is nearest A's, so z_A − z_B is "
        f"mostly {name}; C is another input without it. The last column decodes "
        f"z_A − z_B + z_C: C, given {name} if the space is linear in it. A, B and C are the "
        "test inputs themselves.",
        lambda: AnalogyDisplay(images, f"A − B + C ({name})").plot().figure_,
    )
