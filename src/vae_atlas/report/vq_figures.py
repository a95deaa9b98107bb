"""The report of a VQ-VAE (van den Oord et al. 2017): its figures show the discrete codes —
codebook usage, code maps, decoded codebook entries, images sharing codes — and the figures
that read a Gaussian posterior are not drawn, each with the reason on the page."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from vae_atlas.analysis.codebook import (
    CodeUsage,
    code_neighbours,
    code_usage,
    decode_codes,
    is_vector_quantised,
    tiled_codes,
)
from vae_atlas.analysis.sampling import reconstruct, spread_index
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import TrainingCurvesDisplay, plot_reconstructions
from vae_atlas.viz.codebook import (
    plot_code_maps,
    plot_code_neighbours,
    plot_code_usage,
    plot_codebook_entries,
)

SECTION = "Latent space"
POINT_MASS = "a VQ-VAE's posterior is one code per cell, not a Gaussian"
NOT_DRAWN = (
    f"Latent scatter and decoded manifold: not drawn ({POINT_MASS}; its latent space is a grid "
    "of discrete choices — see the code maps)",
    f"Posterior clouds: not drawn ({POINT_MASS}, so there is no spread to show)",
    "KL per dimension: not drawn (the KL to a uniform prior over codes is the constant "
    "log K per cell)",
    "Prior samples: not drawn (the prior over code maps is uniform and untrained; sampling "
    "needs a learned autoregressive prior such as a PixelCNN)",
    "Traversals and interpolations: not drawn (codes are discrete: there is no direction to "
    "walk along)",
    "Importance-weighted likelihood (IWAE): not computed (it needs a continuous posterior "
    "to sample from)",
    "How the space formed: not drawn (snapshots align continuous codes)",
)


def check_vq_choices(ctx: AtlasContext) -> None:
    """A VQ-VAE asked for figures of a Gaussian posterior: one ValueError saying why not."""
    if not is_vector_quantised(ctx.source.model):
        return
    if ctx.options.dims is not None or ctx.options.grid_base is not None:
        raise ValueError(
            f"dimensions for posterior clouds or a manifold grid do not apply to a VQ-VAE "
            f"({POINT_MASS}); leave --dims and --grid-base out"
        )


class CodebookContext:
    """The code usage of a report's test inputs, computed once for all VQ figures."""

    def __init__(self, ctx: AtlasContext) -> None:
        self.ctx = ctx

    @cached_property
    def usage(self) -> CodeUsage:
        return code_usage(self.ctx.source.model, self.ctx.test)

    def examples(self, n: int) -> np.ndarray:
        labels = self.ctx.test.labels
        labels = None if labels is None else labels.numpy()
        return spread_index(labels, n, len(self.ctx.test), seed=self.ctx.options.seed)


def codebook_context(ctx: AtlasContext) -> CodebookContext:
    """The one :class:`CodebookContext` of ``ctx`` (figures and summary share its usage)."""
    return ctx.__dict__.setdefault("_codebook", CodebookContext(ctx))


def add_vq_figures(ctx: AtlasContext, w: FigureWriter) -> None:
    """Every figure of a VQ-VAE's report, and the notes for those that do not apply."""
    book = codebook_context(ctx)
    model = ctx.source.model
    size = int(model.codebook.size)
    w.add(
        "codebook-usage",
        SECTION,
        "Codebook usage",
        f"How often each of the {size} codes is chosen over every cell of the test inputs' "
        "code maps. The perplexity (exp of the usage entropy) is the number of equally used "
        "codes with the same spread: near K the codebook is used evenly, far below K most "
        "codes are dead.",
        lambda: plot_code_usage(book.usage.counts, book.usage.perplexity),
    )
    index = book.examples(6)
    w.add(
        "code-maps",
        SECTION,
        "Code maps",
        "Test inputs (left), the code chosen in each cell of the encoder's grid (middle, one "
        "colour per code), and what the decoder draws from those codes alone (right).",
        lambda: plot_code_maps(
            ctx.images[index],
            book.usage.codes[index],
            decode_codes(model, book.usage.codes[index]),
            size,
        ),
    )
    order = np.argsort(-book.usage.counts, kind="stable")[: min(size, 32)]
    w.add(
        "codebook-entries",
        SECTION,
        "Decoded codebook entries",
        f"The {len(order)} most used codes, each placed in every cell of the grid and decoded, "
        "with its share of the test cells: the stroke or texture each code stands for.",
        lambda: plot_codebook_entries(tiled_codes(model, order), order, book.usage.counts),
    )
    queries = book.examples(5)
    w.add(
        "code-neighbours",
        SECTION,
        "Nearest neighbours under the code",
        "Each query (left) and the test inputs whose code maps differ from it in the fewest "
        "cells: what agreeing codes means for the images.",
        lambda: plot_code_neighbours(
            ctx.images,
            queries,
            *code_neighbours(book.usage.codes, queries, 6),
            int(np.prod(model.grid)),
        ),
    )
    recon = book.examples(20)
    w.add(
        "reconstructions",
        "Decoding and generating",
        "Reconstructions",
        "Test inputs (rows marked input) above their reconstructions from the quantised codes.",
        lambda: plot_reconstructions(reconstruct(model, ctx.test, recon), ncols=10),
    )
    if ctx.source.metrics:
        w.add(
            "training-curves",
            "Training",
            "Training curves",
            "Reconstruction NLL per epoch on training batches (solid), the validation split "
            "(dotted) and the test set (dashed); the training loss adds the commitment term.",
            lambda: TrainingCurvesDisplay(ctx.source.metrics).plot().figure_,
        )
    w.notes.extend(NOT_DRAWN)


def vq_summary_numbers(ctx: AtlasContext) -> dict[str, str]:
    """Headline numbers of a VQ-VAE: reconstruction NLL, perplexity and codes used."""
    usage = codebook_context(ctx).usage
    out = {
        "codebook perplexity, test": f"{usage.perplexity:.1f} of {len(usage.counts)}",
        "codes used, test": f"{usage.used} of {len(usage.counts)}",
    }
    if ctx.scores is not None:
        out["mean reconstruction NLL, test, this report (nats)"] = (
            f"{float(np.mean(ctx.scores)):.2f}"
        )
    return out
