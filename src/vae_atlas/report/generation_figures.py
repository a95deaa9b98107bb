"""Report figures that decode: prior samples, reconstructions, interpolations, traversals and
attribute directions."""

from __future__ import annotations

import numpy as np

from vae_atlas.analysis.attributes import (
    AttributeDirection,
    apply_direction,
    class_direction,
    clear_example,
    direction_from_mask,
    read_attribute_csv,
    within_class_direction,
)
from vae_atlas.analysis.encode import LatentSet, decode_latents, encode_images
from vae_atlas.analysis.interpolation import Interpolation, interpolation_path, pick_pair
from vae_atlas.analysis.sampling import prior_samples, reconstruct, source_label, spread_index
from vae_atlas.analysis.traversal import Traversal, traverse
from vae_atlas.models.hierarchical import has_levels, level_shown
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import (
    AttributeDisplay,
    InterpolationDisplay,
    TraversalDisplay,
    plot_prior_samples,
    plot_reconstructions,
)

GENERATE = "Decoding and generating"
WALK = "Walking the space"


def add_samples(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 5: prior samples and reconstructions."""
    model, seed = ctx.source.model, ctx.options.seed
    w.add(
        "samples",
        GENERATE,
        "Prior samples",
        f"50 codes drawn from {source_label('prior', ctx.prior)} and decoded. If the encoded "
        "data fills the prior "
        "these look like real inputs; a plain autoencoder's samples are often nonsense because "
        "nothing made its codes follow the prior.",
        lambda: plot_prior_samples(
            prior_samples(model, 50, seed=seed),
            ncols=10,
            title=None if ctx.prior is None else f"Samples from {ctx.prior.label}",
        ),
    )
    index = spread_index(ctx.latents.labels, 20, len(ctx.test), seed=seed)
    w.add(
        "reconstructions",
        GENERATE,
        "Reconstructions",
        "Test inputs (rows marked input) above their reconstructions (decoded posterior "
        "means). Blur shows what the code cannot hold.",
        lambda: plot_reconstructions(reconstruct(model, ctx.test, index), ncols=10),
    )


def interpolations(ctx: AtlasContext) -> list[Interpolation]:
    """Linear and spherical paths between the chosen pair of test inputs."""
    a, b = ctx.options.interpolation
    ia, ib = pick_pair(ctx.latents.labels, ctx.class_names, a=a, b=b)
    n = len(ctx.latents)
    if not (0 <= ia < n and 0 <= ib < n):
        raise ValueError(f"interpolation inputs {ia}, {ib} must be test indices < {n}")
    originals = ctx.images[[ia, ib]]
    out = []
    for method in ("linear", "slerp"):
        steps = ctx.options.interpolation_steps
        z = interpolation_path(ctx.latents.mu[ia], ctx.latents.mu[ib], steps, method)
        out.append(
            Interpolation(
                method,
                np.linspace(0, 1, steps),
                z,
                decode_latents(ctx.source.model, z),
                originals,
                ia,
                ib,
            )
        )
    return out


def add_interpolation(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 4."""

    def draw():
        paths = interpolations(ctx)
        names = ctx.class_names
        labels = ctx.latents.labels
        what = (
            ""
            if names is None or labels is None
            else f": a {names[labels[paths[0].index_a]]} to a {names[labels[paths[0].index_b]]}"
        )
        return InterpolationDisplay(paths, title=f"Interpolation{what}").plot().figure_

    w.add(
        "interpolation",
        WALK,
        "Interpolation",
        "Two test inputs (ends) encoded and the straight (linear) and great-circle (slerp) "
        "paths between their codes decoded. A good space morphs gradually; sudden jumps or "
        "blurry middles mark gaps between regions.",
        draw,
    )


def add_traversals(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 6: per-dimension sweeps (PNG + GIF)."""
    if len(ctx.latents) == 0:
        return
    base_index = pick_pair(ctx.latents.labels, ctx.class_names)[0]
    trav, level_note = _traversal(ctx, base_index)
    display = TraversalDisplay(trav)
    n_inactive = int((~trav.active).sum())
    w.add(
        "traversals",
        WALK,
        "Latent traversals",
        f"Test input #{base_index}'s code with one dimension at a time swept from −3 to +3 "
        f"{_unit_phrase(trav.unit)} (rows sorted by {trav.score_name}, most informative first; "
        f"{n_inactive} shown inactive, shaded). Rows that change the image show what each "
        f"dimension encodes; inactive rows should not change it.{level_note}",
        lambda: display.plot().figure_,
        frames=(lambda: display.frames()) if ctx.options.gifs else None,
        ms_per_frame=150,
    )


def _traversal(ctx: AtlasContext, base_index: int) -> tuple[Traversal, str]:
    """The traversal of test input ``base_index``, and a caption sentence when it is drawn at
    another level than the other figures: a hierarchical model's traversals sweep its top
    level, where each dimension is a factor of the whole generative path."""
    model = ctx.source.model
    if not has_levels(model) or model.level_name == "top":
        kl = None if ctx.kl is None else ctx.kl.per_dim
        return traverse(model, ctx.latents.mu[base_index], ctx.latents, max_dims=12, kl=kl), ""
    shown = ctx.level_words
    with level_shown(model, "top"):
        top = encode_images(model, ctx.test)
        trav = traverse(model, top.mu[base_index], top, max_dims=12)
    note = (
        f" The traversals stay at the top level z2 (the other figures show {shown}): each "
        "row sweeps a dimension of z2, decoded through the mean of p(z1|z2)."
    )
    return trav, note


def _unit_phrase(unit: str) -> str:
    if unit == "prior σ":
        return "prior standard deviations"
    return (
        "standard deviations of that dimension's own codes about their mean (a plain "
        "autoencoder's codes are not on the prior's scale, so ±3 prior σ would show only its "
        "centre; each row gives the values reached)"
    )


def add_attribute(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 7: an attribute direction (class pair or CSV column) added to an input."""
    opts, lat = ctx.options, ctx.latents
    if opts.attribute_csv is not None and opts.attribute_column is not None:
        mask = read_attribute_csv(
            opts.attribute_csv, opts.attribute_column, len(ctx.source.dataset.test)
        )[: len(lat)]
        direction, how = _csv_direction(lat, mask, f"add '{opts.attribute_column}'")
        base = int(np.flatnonzero(~mask)[0])
    else:
        pair = class_pair(ctx)
        if pair is None:
            w.notes.append("Attribute direction: needs two classes or --attribute-csv")
            return
        src, dst = pair
        direction = class_direction(
            lat.mu,
            lat.labels,
            src,
            dst,
            name=f"make the {ctx.class_names[src]} a {ctx.class_names[dst]}",
        )
        base = clear_example(ctx.source.model, lat.mu, ctx.images, lat.labels, src, dst)
        how = "The difference of the two classes' mean codes"
    edit = apply_direction(ctx.source.model, direction, lat.mu[base], ctx.images[base])
    w.add(
        "attribute",
        WALK,
        "Attribute direction",
        f"{how} ({direction.n_with} vs {direction.n_without} inputs), added in steps α to "
        f'input #{base} — "{direction.name}". α = 1 moves it by the full difference.',
        lambda: AttributeDisplay(edit).plot().figure_,
    )


def _csv_direction(lat: LatentSet, mask: np.ndarray, name: str) -> tuple[AttributeDirection, str]:
    """The within-class direction when classes vary the attribute, else the plain one; with the
    caption's words for which is shown."""
    plain = "The difference of the mean codes with and without the attribute"
    if lat.labels is None or len(np.unique(lat.labels)) < 2:
        return direction_from_mask(lat.mu, mask, name), plain
    try:
        direction = within_class_direction(lat.mu, mask, lat.labels, name)
    except ValueError:  # the attribute follows the classes exactly: nothing within a class
        return direction_from_mask(
            lat.mu, mask, name
        ), plain + " (no class has both, so the classes themselves are part of it)"
    return direction, (
        f"{plain} within each class, averaged over the classes (so the classes' mix in the "
        "two groups does not leak in)"
    )


def class_pair(ctx: AtlasContext) -> tuple[int, int] | None:
    names, labels = ctx.class_names, ctx.latents.labels
    if names is None or labels is None or len(np.unique(labels)) < 2:
        return None
    wanted = ctx.options.attribute_classes or (("4", "9") if {"4", "9"} <= set(names) else None)
    if wanted is not None:
        for name in wanted:
            if name not in names:
                raise ValueError(f"class {name!r} is not one of {names}")
        return names.index(wanted[0]), names.index(wanted[1])
    present = np.unique(labels)
    return int(present[0]), int(present[1])
