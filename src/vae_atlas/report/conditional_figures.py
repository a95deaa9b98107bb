"""The report of a conditional VAE (Sohn et al. 2015): the latent scatter coloured by class
(the class factored out, so the classes overlap), one handwriting decoded under every class,
prior draws per class, and reconstructions under each input's own class. An attribute cvae
gets the same code decoded under its own attributes and each one flipped, prior draws with each
attribute switched on, and its codes coloured by each attribute it is told. Figures that decode
a code without a condition are not drawn, each with the reason on the page."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.analysis.conditional import (
    attribute_flips,
    prior_samples_per_attribute,
    prior_samples_per_class,
    style_transfer,
)
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.analysis.sampling import Reconstructions, spread_index
from vae_atlas.models.conditional import attribute_names_of, image_conditions
from vae_atlas.report import attribute_figures
from vae_atlas.report import generation_figures as gen
from vae_atlas.report import latent_figures as latent
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import plot_reconstructions
from vae_atlas.viz.attributes import AttributeScatterDisplay
from vae_atlas.viz.conditional import plot_class_samples, plot_every_class

SECTION = "Decoding and generating"
NEEDS_CLASS = "a cvae decodes a code only under a class"
NEEDS_ATTRIBUTES = "an attribute cvae decodes a code only under its attributes"
# the standard figures that decode codes without a condition, or score images without it
SKIPPED = (
    latent.add_manifold,
    gen.add_samples,
    gen.add_interpolation,
    gen.add_traversals,
    gen.add_attribute,
    attribute_figures.add_attributes,
)
MAX_FLIPS = 8  # attributes shown flipped, or switched on, in one figure
NOT_DRAWN = (
    f"Decoded manifold: not drawn ({NEEDS_CLASS}; see the prior draws per class)",
    f"Prior samples: not drawn ({NEEDS_CLASS}; see the prior draws per class)",
    f"Interpolations, traversals and class directions: not drawn ({NEEDS_CLASS}; the class "
    "itself is an input, see every class decoded from one code)",
    "Anomalies: not drawn (a cvae scores an input only under its class, and its "
    "reconstruction-error figure reads unlabelled images)",
    f"Diagnostics: not run (their decoder checks decode codes without a class; {NEEDS_CLASS})",
)
NOT_DRAWN_ATTRIBUTES = tuple(note.replace(NEEDS_CLASS, NEEDS_ATTRIBUTES) for note in NOT_DRAWN) + (
    "This handwriting, every class and Prior draws per class: not drawn (an attribute cvae "
    "has no classes; see the attribute flips and the prior draws per attribute)",
)
# the attribute section's scatter, directions and analogies: only where the data has attributes
ATTRIBUTES_NOT_DRAWN = (
    "Attribute directions, analogies and probes: not drawn (they move codes along a direction "
    "and decode them without a condition)"
)


def add_cvae_figures(ctx: AtlasContext, w: FigureWriter) -> None:
    """The figures only a conditional model has, and the notes for those it lacks."""
    if attribute_names_of(ctx.source.model):
        add_attribute_cvae_figures(ctx, w)
        return
    model = ctx.source.model
    names = ctx.class_names or tuple(str(i) for i in range(int(model.n_classes)))
    labels = ctx.test.labels.numpy()
    index = spread_index(labels, 8, len(ctx.test), seed=ctx.options.seed)
    w.add(
        "every-class",
        SECTION,
        "This handwriting, every class",
        "Each row: a test input (left, encoded with its own class) and its code z decoded "
        "under every class. The decoder is told the class, so z keeps the rest — slant, "
        "thickness, size — and each row writes every class in the input's style. The latent "
        "scatter shows the same split: told the class, the codes of different classes "
        "overlap instead of forming clusters.",
        lambda: plot_every_class(ctx.images[index], style_transfer(model, ctx.test, index), names),
    )
    w.add(
        "class-samples",
        SECTION,
        "Prior draws per class",
        "Ten draws z ~ N(0, I) (columns), each decoded under every class (rows): a column "
        "keeps one style across classes.",
        lambda: plot_class_samples(
            prior_samples_per_class(model, 10, seed=ctx.options.seed), names
        ),
    )
    recon = spread_index(labels, 20, len(ctx.test), seed=ctx.options.seed)
    w.add(
        "reconstructions",
        SECTION,
        "Reconstructions",
        "Test inputs (rows marked input) above their reconstructions: the posterior mean "
        "decoded under the input's own class.",
        lambda: plot_reconstructions(_reconstruct(ctx, recon), ncols=10),
    )
    w.notes.extend(NOT_DRAWN)
    if ctx.source.dataset.attribute_names:
        w.notes.append(ATTRIBUTES_NOT_DRAWN)


def add_attribute_cvae_figures(ctx: AtlasContext, w: FigureWriter) -> None:
    """An attribute cvae's figures: each attribute flipped under one code, prior draws with
    each attribute switched on, reconstructions and its codes coloured by attribute."""
    model = ctx.source.model
    names = attribute_names_of(model)[:MAX_FLIPS]
    shown = len(names)
    index = spread_index(None, 6, len(ctx.test), seed=ctx.options.seed)
    w.add(
        "attribute-flips",
        SECTION,
        "The same code under each attribute switched",
        "Each row: a test input (left), its code z (encoded with the input's own attributes) "
        "decoded under those attributes (own), then under them with one attribute flipped "
        "(binary: on ↔ off; continuous: mirrored about its training mean). The decoder is "
        "told the attributes, so z keeps the rest of the face and each column changes one.",
        lambda: plot_every_class(
            ctx.images[index],
            attribute_flips(model, ctx.test, index)[:, : 1 + shown],
            ["own", *names],
            title="One code z: own attributes, then each flipped",
        ),
    )
    w.add(
        "attribute-samples",
        SECTION,
        "Prior draws per attribute",
        "Ten draws z ~ N(0, I) (columns) decoded with every attribute off (binary 0, "
        "continuous at its training mean; top row), then with one attribute switched on "
        "(binary 1, continuous one standard deviation above its mean) per row.",
        lambda: plot_class_samples(
            prior_samples_per_attribute(model, 10, seed=ctx.options.seed)[: 1 + shown],
            ["all off", *names],
            title="Prior draws z ~ N(0, I), one column each, per attribute switched on",
        ),
    )
    recon = spread_index(None, 20, len(ctx.test), seed=ctx.options.seed)
    w.add(
        "reconstructions",
        SECTION,
        "Reconstructions",
        "Test inputs (rows marked input) above their reconstructions: the posterior mean "
        "decoded under the input's own attributes.",
        lambda: plot_reconstructions(_reconstruct(ctx, recon), ncols=10),
    )
    w.add(
        "condition-scatter",
        "Latent space",
        "Codes coloured by each attribute the model is told",
        "The test codes coloured by each attribute the decoder is told: told the attributes, "
        "the codes need not carry them, so with and without mix instead of separating.",
        lambda: _condition_scatter(ctx, names),
    )
    w.notes.extend((*NOT_DRAWN_ATTRIBUTES, ATTRIBUTES_NOT_DRAWN))


def _condition_scatter(ctx: AtlasContext, names: tuple[str, ...]) -> Figure:
    values = image_conditions(ctx.source.model, ctx.test).numpy()  # (N, A)
    two_d = ctx.latents.latent_dim == 2
    xy = ctx.projection("identity" if two_d else "pca").coords
    cols = min(4, len(names))
    fig = Figure(figsize=(3.4 * cols, 3.2 * -(-len(names) // cols)), layout="constrained")
    axes = fig.subplots(-(-len(names) // cols), cols, squeeze=False).ravel()
    for a, ax in enumerate(axes):
        if a < len(names):
            AttributeScatterDisplay(xy, values[:, a], names[a], "z" if two_d else "PCA").plot(ax)
        else:
            ax.set_axis_off()
    return fig


def _reconstruct(ctx: AtlasContext, index: np.ndarray) -> Reconstructions:
    mu = ctx.latents.mu[index]
    own = image_conditions(ctx.source.model, ctx.test)
    assert own is not None  # the analysis encoded these images with their conditions
    decoded = decode_latents(ctx.source.model, mu, labels=own.numpy()[index])
    return Reconstructions(ctx.images[index], decoded, np.asarray(index))
