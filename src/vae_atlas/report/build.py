"""Assemble a single-source report: compute, draw, save, and write ``index.html``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from torch import nn

from vae_atlas.analysis.codebook import is_vector_quantised
from vae_atlas.analysis.interpolation import pick_pair
from vae_atlas.data import Dataset
from vae_atlas.models import is_conditional
from vae_atlas.report import attribute_figures, conditional_figures, vq_figures
from vae_atlas.report import generation_figures as gen
from vae_atlas.report import health_figures as health
from vae_atlas.report import latent_figures as latent
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.html import findings_list, render_page, table
from vae_atlas.report.items import FigureWriter
from vae_atlas.report.ood import OodSpec, load_ood
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import AtlasSource, source_from_model, source_from_run
from vae_atlas.report.training_figures import add_training
from vae_atlas.run import Run


def build_report(
    run: Run | str | Path | nn.Module,
    out_dir: str | Path | None = None,
    *,
    dataset: Dataset | None = None,
    ood: OodSpec | Sequence[OodSpec] | None = None,
    options: ReportOptions | None = None,
    latent_dim: int | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Path:
    """Write the latent-space atlas of a run (or of a model + ``dataset``) and return its
    ``index.html``.

    Parameters
    ----------
    run : a run directory, a loaded :class:`Run`, or any ``nn.Module`` with ``encode``/``decode``
        (then ``dataset`` is required and ``out_dir`` defaults to ``./atlas-report``).
    out_dir : the report folder (default ``RUN/report``).
    ood : one or more out-of-distribution sets (dataset names, folders, :class:`Dataset` or
        :class:`ImageSet`) scored against the test set.
    options : what to draw (:class:`ReportOptions`).
    latent_dim : a user model's latent size, when it has no ``latent_dim`` attribute.
    progress : called with (figure title, seconds) as each figure is written.
    """
    if isinstance(run, nn.Module):
        if dataset is None:
            raise TypeError("build_report(model, ...) needs dataset= (the data to map)")
        source = source_from_model(run, dataset, latent_dim=latent_dim)
        default_out = Path("atlas-report")
    else:
        source = source_from_run(run)
        default_out = source.run_dir / "report" if source.run_dir else Path("report")
    return build_source_report(
        source,
        Path(out_dir) if out_dir else default_out,
        ood=ood,
        options=options,
        progress=progress,
    )


def build_report_for_model(
    model: nn.Module, dataset: Dataset, out_dir: str | Path, **kwargs: object
) -> Path:
    """The atlas of a user's own model (see :mod:`vae_atlas.models.protocol`) on ``dataset``."""
    return build_report(model, out_dir, dataset=dataset, **kwargs)  # type: ignore[arg-type]


def prepare_dir(out_dir: Path) -> None:
    """Create ``out_dir``; clear figures left by an earlier report there (only our file types)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "index.html").exists():
        for old in [*out_dir.glob("*.png"), *out_dir.glob("*.gif")]:
            old.unlink()


def build_source_report(
    source: AtlasSource,
    out_dir: Path,
    *,
    ood: OodSpec | Sequence[OodSpec] | None = None,
    options: ReportOptions | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Path:
    """Compute and draw every figure for ``source`` into ``out_dir``; returns ``index.html``."""
    start = time.perf_counter()
    options = options or ReportOptions()
    prepare_dir(out_dir)
    ctx = AtlasContext(source, options)
    check_choices(ctx)
    writer = FigureWriter(out_dir, dpi=options.dpi, progress=progress)
    vq = is_vector_quantised(source.model)
    if vq:  # discrete codes: their own figures, and notes for the Gaussian ones
        vq_figures.add_vq_figures(ctx, writer)
    skipped = conditional_figures.SKIPPED if is_conditional(source.model) else ()
    for step in (
        latent.add_scatter,
        latent.add_clouds,
        latent.add_manifold,
        gen.add_samples,
        gen.add_interpolation,
        gen.add_traversals,
        gen.add_attribute,
        attribute_figures.add_attributes,
        add_training,
        health.add_aggregate,
    ):
        if not vq and step not in skipped:
            step(ctx, writer)
    if skipped:  # a conditional model: its own decoding figures
        conditional_figures.add_cvae_figures(ctx, writer)
    aucs = [] if skipped else _anomalies(ctx, writer, ood)
    t0 = time.perf_counter()
    # the diagnostics read a Gaussian posterior and decode codes without a class
    findings = [] if vq or skipped else health.findings(ctx)
    diagnostics_seconds = time.perf_counter() - t0
    index = _write_page(ctx, writer, findings, aucs)
    timings = {i.key: round(i.seconds, 3) for i in writer.items}
    timings["diagnostics"] = round(diagnostics_seconds, 3)
    timings["total"] = round(time.perf_counter() - start, 3)
    (out_dir / "timings.json").write_text(json.dumps(timings, indent=2))
    return index


def _write_page(
    ctx: AtlasContext, writer: FigureWriter, findings: list, aucs: list[tuple[str, float]]
) -> Path:
    source = ctx.source
    summary = vq_figures.vq_summary_numbers if is_vector_quantised(source.model) else None
    numbers = {
        **(summary or health.summary_numbers)(ctx),
        **{f"OOD ROC AUC ({k})": f"{v:.3f}" for k, v in aucs},
    }
    intro = (
        '<div class="summary">'
        + table({k: v for k, v in source.summary.items()})
        + table(numbers)
        + "</div>"
    )
    page = render_page(
        title=f"Latent-space atlas: {source.name}",
        subtitle=f"{source.summary.get('objective', source.summary.get('model', ''))} · "
        f"{source.latent_dim}-D latent space{_level(ctx)} · {source.dataset.name} "
        f"({len(ctx.test)} test inputs)",
        intro=intro,
        items=writer.items,
        diagnostics_html=findings_list(findings),
        notes=writer.notes,
    )
    index = writer.out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _level(ctx: AtlasContext) -> str:
    """ " (the bottom level z1)" for a hierarchical model, else ""."""
    return f" ({ctx.level_words})" if ctx.level_words else ""


def check_choices(ctx: AtlasContext) -> None:
    """Fail early (ValueError) on user choices that name inputs or classes that do not exist."""
    a, b = ctx.options.interpolation
    n = len(ctx.latents)
    for index in pick_pair(ctx.latents.labels, ctx.class_names, a=a, b=b):
        if not 0 <= index < n:
            raise ValueError(f"interpolation input {index} is not a test index < {n}")
    if ctx.options.attribute_classes is not None:
        gen.class_pair(ctx)
    attribute_figures.check_attribute_choice(ctx)
    vq_figures.check_vq_choices(ctx)
    d = ctx.source.latent_dim
    if ctx.options.dims is not None and max(ctx.options.dims) >= d:
        named = ", ".join(f"z{i + 1}" for i in ctx.options.dims)
        raise ValueError(f"dimensions {named} do not all exist in a {d}-D latent space")
    if ctx.options.grid_base is not None and not 0 <= ctx.options.grid_base < n:
        raise ValueError(f"grid base {ctx.options.grid_base} is not a test index < {n}")


def _anomalies(
    ctx: AtlasContext, writer: FigureWriter, ood: OodSpec | Sequence[OodSpec] | None
) -> list[tuple[str, float]]:
    specs: list[OodSpec] = (
        [] if ood is None else (list(ood) if isinstance(ood, (list, tuple)) else [ood])
    )  # type: ignore[arg-type]
    shape = tuple(ctx.source.dataset.image_shape)
    oods = [load_ood(spec, shape, data_dir=ctx.source.data_dir) for spec in specs]  # type: ignore[arg-type]
    return health.add_anomalies(ctx, writer, oods)
