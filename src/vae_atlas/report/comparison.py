"""Several runs side by side (e.g. AE vs VAE vs β-VAE on the same data), with shared axes where
that is meaningful, so the difference between a plain autoencoder's scattered codes and a VAE's
compact, prior-shaped space is visible at a glance (Kingma & Welling 2014; Higgins et al. 2017).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from vae_atlas.analysis.codebook import is_vector_quantised
from vae_atlas.analysis.interpolation import pick_pair, random_pairs, typical_pair
from vae_atlas.analysis.quality import pair_roughness
from vae_atlas.analysis.sampling import prior_samples
from vae_atlas.models import is_conditional
from vae_atlas.report import comparison_figures as cf
from vae_atlas.report import health_figures as health
from vae_atlas.report.build import check_choices, prepare_dir
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.html import render_page, table
from vae_atlas.report.items import FigureWriter
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import AtlasSource, source_from_run
from vae_atlas.run import Run


def build_comparison(
    runs: Sequence[Run | str | Path],
    out_dir: str | Path,
    *,
    options: ReportOptions | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Path:
    """Write a side-by-side report of ``runs`` into ``out_dir`` and return its ``index.html``;
    ``progress`` is called with (figure title, seconds) as each figure is written."""
    if len(runs) < 2:
        raise ValueError("a comparison needs at least two runs")
    start = time.perf_counter()
    options = options or ReportOptions()
    out = Path(out_dir)
    prepare_dir(out)
    sources = distinct_names([source_from_run(r) for r in runs])
    for source in sources:
        _check_comparable(source)
    contexts = [AtlasContext(s, options) for s in sources]
    check_choices(contexts[0])
    writer = FigureWriter(out, dpi=options.dpi, progress=progress)
    cf.add_scatters(contexts, writer)
    cf.add_clouds(contexts, writer)
    cf.add_image_panels(
        contexts,
        writer,
        "samples",
        "Prior samples",
        "50 decoded draws from each run's prior (N(0, I) unless its model learns its own, "
        "e.g. a VampPrior), same seed. Where the codes follow "
        "the prior (VAE) samples look like data; where they do not (plain AE) the "
        "prior lands in regions the decoder never saw.",
        lambda ctx: prior_samples(ctx.source.model, 50, seed=options.seed).images,
    )
    cf.add_manifolds(contexts, writer)
    if _same_test_data(contexts):
        cf.add_interpolations(contexts, writer, *_pair(contexts))
    else:
        writer.notes.append(
            "Interpolation: the runs use different test data, so there is no common pair of inputs"
        )
    cf.add_aggregates(contexts, writer)
    cf.add_training(contexts, writer)
    page = render_page(
        title="Latent-space atlas: comparison",
        subtitle=" vs ".join(c.source.name for c in contexts)
        + f" · {contexts[0].source.dataset.name}",
        intro=_summary(contexts),
        items=writer.items,
        diagnostics_html=_diagnostics(contexts),
        notes=writer.notes + [f"built in {time.perf_counter() - start:.1f} s"],
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _check_comparable(source: AtlasSource) -> None:
    """``compare`` draws every model's continuous latent space decoded without a class: a
    VQ-VAE or a cvae among them is one ValueError saying why not."""
    if is_vector_quantised(source.model):
        why = "a VQ-VAE (its codes are discrete, one per grid cell)"
    elif is_conditional(source.model):
        why = "a cvae (it decodes a code only under a class)"
    else:
        return
    raise ValueError(
        f"compare draws continuous latent spaces decoded without a class, and {source.name} is "
        f"{why}; see its own report (vae-atlas report)"
    )


def distinct_names(sources: list[AtlasSource]) -> list[AtlasSource]:
    """``sources``, each named ``parent/name`` by its run folder when two share a name (so that
    titles and table columns stay distinct)."""
    names = [s.name for s in sources]
    if len(set(names)) == len(names):
        return sources
    return [
        replace(s, name=f"{s.run_dir.parent.name}/{s.name}") if s.run_dir else s for s in sources
    ]


def _same_test_data(contexts: list[AtlasContext]) -> bool:
    first = contexts[0].test
    return all(
        c.test.images.shape == first.images.shape and bool((c.test.images == first.images).all())
        for c in contexts[1:]
    )


CANDIDATE_PAIRS = 64  # random test pairs the default interpolation is chosen from


def _pair(contexts: list[AtlasContext]) -> tuple[tuple[int, int], str]:
    """The two inputs to interpolate between in every run, and how they were chosen.

    Asked-for inputs are used as given. By default one pair shows little (whether a given path
    crosses a hole depends on the seed), so the pair shown is a typical one: among random test
    pairs of different classes, the one nearest the median roughness in every run at once.
    """
    ctx = contexts[0]
    if ctx.options.interpolation != (None, None):
        a, b = ctx.options.interpolation
        return pick_pair(ctx.latents.labels, ctx.class_names, a=a, b=b), "The inputs asked for"
    a, b = random_pairs(len(ctx.latents), CANDIDATE_PAIRS, ctx.options.seed, ctx.latents.labels)
    steps = ctx.options.interpolation_steps
    rough = [pair_roughness(c.source.model, c.latents.mu, a, b, n_steps=steps) for c in contexts]
    i = typical_pair(rough)
    numbers = ", ".join(
        f"{c.source.name} {r[i]:.2f} (median {np.median(r):.2f})"
        for c, r in zip(contexts, rough, strict=True)
    )
    how = (
        f"A typical pair: of {len(a)} random test pairs"
        f"{' of different classes' if ctx.latents.labels is not None else ''}, the one nearest "
        "the median roughness (largest / mean decoded step; 1 = an even morph) in every run. "
        f"This strip's roughness: {numbers}"
    )
    return (int(a[i]), int(b[i])), how


def _summary(contexts: list[AtlasContext]) -> str:
    keys: list[str] = []
    rows_by_run = []
    for c in contexts:
        values = {**{k: str(v) for k, v in c.source.summary.items()}, **health.summary_numbers(c)}
        rows_by_run.append(values)
        # a row only some runs have goes right after the row that precedes it in those runs
        at = 0
        for k in values:
            if k in keys:
                at = keys.index(k) + 1
            else:
                keys.insert(at, k)
                at += 1
    rows = [[k, *[r.get(k, "—") for r in rows_by_run]] for k in keys]
    return table(rows, header=["", *[c.source.name for c in contexts]])


def _diagnostics(contexts: list[AtlasContext]) -> str:
    found = [health.findings(c) for c in contexts]
    rules: list[str] = []
    for fs in found:
        rules.extend(f.rule for f in fs if f.rule not in rules)
    rows = []
    for rule in rules:
        cells = []
        for fs in found:
            f = next((f for f in fs if f.rule == rule), None)
            cells.append("—" if f is None else f"[{f.severity}] {f.title}")
        rows.append([rule, *cells])
    return table(rows, header=["rule", *[c.source.name for c in contexts]])
