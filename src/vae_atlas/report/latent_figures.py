"""Report figures of the latent space itself: scatter (2-D, 3-D, projected), posterior clouds,
the decoded manifold standalone and over the scatter."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from vae_atlas.analysis.aggregate import plane_prior
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.analysis.grid import LatentGrid, latent_grid
from vae_atlas.analysis.projection import Projection
from vae_atlas.analysis.sampling import spread_index
from vae_atlas.report.context import AtlasContext, ctx_dims_phrase
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import (
    LatentScatter3DDisplay,
    LatentScatterDisplay,
    ManifoldDisplay,
    PosteriorCloudsDisplay,
)

SECTION = "Latent space"


def add_scatter(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 1: the test set in latent space, by class."""
    lat, d = ctx.latents, ctx.source.latent_dim
    names = ctx.class_names
    colour = "coloured by class" if names else "(unlabelled data: one colour)"
    if ctx.level_words:  # a hierarchical model: say which of its latent spaces this is
        colour += f", in {ctx.level_words}"
    if d == 1:
        w.add(
            "scatter",
            SECTION,
            "Latent scatter (1-D)",
            f"The 1-D latent means of {len(lat)} test inputs, one row per class (rows are "
            "spread vertically only so the points do not hide each other).",
            lambda: _strip_plot(ctx).plot().figure_,
        )
    if d == 2:
        w.add(
            "scatter",
            SECTION,
            "Latent scatter",
            f"Posterior means of {len(lat)} test inputs {colour}, in latent units. Look for "
            "separated, compact classes and for how far the codes spread compared with "
            + (
                "the prior N(0, I) (most prior mass lies within ±2)."
                if ctx.prior is None
                else f"{ctx.prior.label} (drawn behind the posterior clouds)."
            ),
            lambda: (
                LatentScatterDisplay.from_latents(lat, ctx.projection("identity"), names)
                .plot()
                .figure_
            ),
        )
    if d == 3:
        display = LatentScatter3DDisplay(lat.mu, lat.labels, names)
        w.add(
            "scatter3d",
            SECTION,
            "Latent scatter (3-D)",
            f"The 3-D latent means {colour}, seen from three fixed angles; the GIF turns the "
            "cloud once around the vertical axis.",
            lambda: display.plot().figure_,
            frames=(lambda: display.frames(16)) if ctx.options.gifs else None,
        )
    if d > 2:
        for method in (
            "pca",
            *[m for m in ctx.options.projections if m not in ("pca", "identity")],
        ):
            w.add(
                f"scatter-{method}",
                SECTION,
                f"Latent scatter ({method.upper()})",
                _projection_caption(method, d, colour),
                lambda m=method: (
                    LatentScatterDisplay.from_latents(lat, ctx.projection(m), names).plot().figure_
                ),
            )


def _strip_plot(ctx: AtlasContext) -> LatentScatterDisplay:
    """A 1-D space as a strip plot: z1 across, class (or nothing) down, with a little jitter."""
    lat = ctx.latents
    rng = np.random.default_rng(ctx.options.seed)
    rows = np.zeros(len(lat)) if lat.labels is None else lat.labels.astype(float)
    coords = np.stack([lat.mu[:, 0], rows + rng.uniform(-0.3, 0.3, len(lat))], axis=1)
    label = "class (jittered)" if lat.labels is not None else "(jitter only)"
    return LatentScatterDisplay(
        coords, lat.labels, ctx.class_names, ("z1", label), "Test set in the 1-D latent space"
    )


def _projection_caption(method: str, d: int, colour: str) -> str:
    what = {
        "pca": "the plane of the two largest principal directions of the means (a linear view: "
        "distances are faithful, overlaps may be an artefact of projecting)",
        "tsne": "t-SNE (non-linear: it keeps neighbourhoods, not distances or cluster sizes)",
        "umap": "UMAP (non-linear: neighbourhoods and some global layout are kept)",
    }[method]
    return f"The {d}-D latent means {colour}, projected by {what}."


def add_clouds(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 2: a sample of inputs as posterior clouds over the prior."""
    lat = ctx.latents
    if lat.latent_dim < 2:
        w.notes.append("Posterior clouds: need at least two latent dimensions")
        return
    dims = ctx.top_dims
    index = spread_index(lat.labels, ctx.options.n_clouds, len(lat), seed=ctx.options.seed)
    sub = lat.subset(index)
    sigma = None if sub.sigma is None else sub.sigma[:, dims]
    where = "" if lat.latent_dim == 2 else ctx_dims_phrase(ctx, dims)
    if ctx.level_words:
        where += f" of {ctx.level_words}"
    prior = plane_prior(ctx.prior, dims)
    backdrop = (
        "the density of the prior N(0, I) (grey, dashed radii 1-3)"
        if prior is None
        else f"the density of {prior.label} on this plane (grey, exact; dashed: the regions "
        "holding 39 %, 86 % and 99 % of its mass, as radii 1-3 do for N(0, I))"
    )
    if sigma is None:
        cap = (
            f"A plain autoencoder has no posterior: each of {len(sub)} inputs is a single point"
            f"{where}, drawn over {backdrop} for scale."
        )
    else:
        cap = (
            f"{len(sub)} inputs{where}: each is a Gaussian q(z|x), drawn as its mean with 1σ "
            f"and 2σ ellipses over {backdrop}. Overlapping clouds mean the decoder must blend "
            "those inputs."
        )
    w.add(
        "clouds",
        SECTION,
        "Posterior clouds",
        cap,
        lambda: (
            PosteriorCloudsDisplay(
                sub.mu[:, dims],
                sigma,
                sub.labels,
                ctx.class_names,
                (f"z{dims[0] + 1}", f"z{dims[1] + 1}"),
                prior=prior,
            )
            .plot()
            .figure_
        ),
    )


def manifold(ctx: AtlasContext) -> tuple[ManifoldDisplay, str]:
    """The decoded prior-quantile grid: the latent plane for 2-D, else the plane of the chosen
    dimensions or of the top-2 principal directions of the means, through ``ctx.grid_base``."""
    lat, k, model = ctx.latents, ctx.options.grid_size, ctx.source.model
    if lat.latent_dim == 2:
        grid = latent_grid(k, 2)
        return ManifoldDisplay(grid, decode_latents(model, grid.z)), "z1, z2"
    if ctx.options.dims is not None:
        d0, d1 = ctx.options.dims
        grid = latent_grid(k, lat.latent_dim, dims=(d0, d1), base=ctx.grid_base)
        return ManifoldDisplay(grid, decode_latents(model, grid.z)), f"z{d0 + 1}, z{d1 + 1}"
    pca = ctx.projection("pca")
    grid = latent_grid(
        k,
        lat.latent_dim,
        basis=pca.components,
        base=ctx.grid_base,
        axis_labels=("PC 1 direction", "PC 2 direction"),
    )
    display = ManifoldDisplay(grid, decode_latents(model, grid.z))
    return display, "the top-2 principal directions of the means"


def overlay_grid(ctx: AtlasContext, k: int) -> tuple[ManifoldDisplay, Projection]:
    """An even K×K grid over the central 98% of the codes in the scatter's (linear) plane."""
    proj = ctx.projection("identity" if ctx.latents.latent_dim == 2 else "pca")
    lo, hi = np.percentile(proj.coords, [1, 99], axis=0)
    mid, half = (lo + hi) / 2, float(np.max(hi - lo)) / 2 * 1.05
    steps = np.linspace(-half, half, k)
    u, v = mid[0] + steps, (mid[1] + steps)[::-1]
    uu, vv = np.meshgrid(u, v)
    plane = np.stack([uu.ravel(), vv.ravel()], axis=1)  # (K*K, 2)
    z = proj.center + plane @ proj.components  # (K*K, D) on the plane through the centre
    grid = LatentGrid(z, u, v, proj.components, proj.center, proj.axis_labels)
    return ManifoldDisplay(grid, decode_latents(ctx.source.model, z)), proj


def add_manifold(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 3: the K×K decoded grid, standalone and over the scatter."""
    if ctx.latents.latent_dim < 2:
        w.notes.append("Decoded manifold: needs at least two latent dimensions")
        return
    display, plane = manifold(ctx)
    k = ctx.options.grid_size
    where = (
        "the mean of the codes"
        if ctx.options.grid_base is None
        else f"the code of test input #{ctx.options.grid_base}"
    )
    held = "" if ctx.latents.latent_dim == 2 else f" Other coordinates: {where}."
    w.add(
        "manifold",
        SECTION,
        "Decoded manifold",
        f"{k}×{k} decodings over {plane}, spaced by the prior's quantiles (each cell holds "
        f"equal prior mass; ticks in latent units).{held} A smooth, varied grid means the "
        "space is continuous; blurry or repeated cells show unused regions.",
        lambda: display.plot().figure_,
    )

    def overlay() -> Figure:
        over, proj = overlay_grid(ctx, min(k, 12))
        # a subsample, so the tiles stay readable under the points
        idx = spread_index(ctx.latents.labels, 1500, len(ctx.latents), seed=ctx.options.seed)
        labels = None if ctx.latents.labels is None else ctx.latents.labels[idx]
        scatter = LatentScatterDisplay(
            proj.coords[idx], labels, ctx.class_names, proj.axis_labels, "Decodings under the codes"
        )
        scatter.plot(alpha=0.9, size=5)
        over.overlay(scatter.ax_, alpha=0.9, zoom=0.94)
        return scatter.figure_

    w.add(
        "manifold-overlay",
        SECTION,
        "Decoded manifold over the scatter",
        "An even grid of decodings spanning the codes, each tile drawn at its latent position "
        "under the test codes: read which class lives where and what the decoder makes of "
        "the space between the classes.",
        overlay,
    )
