"""The report of a conditional VAE (Sohn et al. 2015): the latent scatter coloured by class
(the class factored out, so the classes overlap), one handwriting decoded under every class,
prior draws per class, and reconstructions under each input's own class. Figures that decode
a code without a class are not drawn, each with the reason on the page."""

from __future__ import annotations

import numpy as np

from vae_atlas.analysis.conditional import prior_samples_per_class, style_transfer
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.analysis.sampling import Reconstructions, spread_index
from vae_atlas.report import generation_figures as gen
from vae_atlas.report import latent_figures as latent
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import plot_reconstructions
from vae_atlas.viz.conditional import plot_class_samples, plot_every_class

SECTION = "Decoding and generating"
NEEDS_CLASS = "a cvae decodes a code only under a class"
# the standard figures that decode codes without a class, or score images without their label
SKIPPED = (
    latent.add_manifold,
    gen.add_samples,
    gen.add_interpolation,
    gen.add_traversals,
    gen.add_attribute,
)
NOT_DRAWN = (
    f"Decoded manifold: not drawn ({NEEDS_CLASS}; see the prior draws per class)",
    f"Prior samples: not drawn ({NEEDS_CLASS}; see the prior draws per class)",
    f"Interpolations, traversals and class directions: not drawn ({NEEDS_CLASS}; the class "
    "itself is an input, see every class decoded from one code)",
    "Anomalies: not drawn (a cvae scores an input only under its class, and its "
    "reconstruction-error figure reads unlabelled images)",
    f"Diagnostics: not run (their decoder checks decode codes without a class; {NEEDS_CLASS})",
)


def add_cvae_figures(ctx: AtlasContext, w: FigureWriter) -> None:
    """The figures only a conditional model has, and the notes for those it lacks."""
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


def _reconstruct(ctx: AtlasContext, index: np.ndarray) -> Reconstructions:
    mu, labels = ctx.latents.mu[index], ctx.latents.labels[index]
    decoded = decode_latents(ctx.source.model, mu, labels=labels)
    return Reconstructions(ctx.images[index], decoded, np.asarray(index))
