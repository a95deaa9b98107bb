"""Report figures about how well the space fits the prior and the data: aggregate posterior vs
prior, anomaly ranking (with an optional out-of-distribution set), and the numbers the
diagnostics read."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from vae_atlas.analysis.aggregate import (
    HOLE_RATIO,
    AggregateDensity,
    aggregate_codes,
    aggregate_density,
    hole_fraction,
)
from vae_atlas.analysis.anomaly import (
    ood_separation,
    rank_anomalies,
    reconstruction_errors,
    typicality,
)
from vae_atlas.analysis.diagnostics import Finding, diagnose
from vae_atlas.analysis.evidence import measure_evidence
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.analysis.training_health import diagnose_training
from vae_atlas.data import ImageSet
from vae_atlas.report.context import AtlasContext, ctx_dims_phrase
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import AggregateDisplay, AnomalyDisplay, plot_anomaly_examples


def density(ctx: AtlasContext) -> AggregateDensity:
    cached = ctx.__dict__.get("_density")
    if cached is None:
        lat = ctx.latents
        cached = aggregate_density(
            lat.mu, lat.logvar, dims=ctx.top_dims, seed=ctx.options.seed, prior=ctx.prior
        )
        ctx.__dict__["_density"] = cached
    return cached


def holes(ctx: AtlasContext) -> float:
    """Prior mass in holes, in all the space's dimensions (the number the diagnostics read)."""
    cached = ctx.__dict__.get("_holes")
    if cached is None:
        lat, seed = ctx.latents, ctx.options.seed
        codes = aggregate_codes(lat.mu, lat.logvar, seed=seed)
        cached = hole_fraction(codes, seed=seed, prior=ctx.prior)
        ctx.__dict__["_holes"] = cached
    return cached


def prior_contours(ctx: AtlasContext) -> str:
    """What the dashed contours of the aggregate figure are, in words."""
    if ctx.prior is None:
        return "the prior's 1-3 radius contours"
    return f"contours of {ctx.prior.label} (its exact density on this plane)"


def add_aggregate(ctx: AtlasContext, w: FigureWriter) -> None:
    """Figure 9."""
    d = density(ctx)
    where = "" if ctx.latents.latent_dim <= 2 else (ctx_dims_phrase(ctx, d.dims))
    w.add(
        "aggregate",
        "Prior fit",
        "Aggregate posterior vs prior",
        f"Left: where the encoded test data lives{where} — q(z), the {d.method} — with "
        f"{prior_contours(ctx)}. Right: log q/p; red is prior mass the data never uses "
        f'("holes", hatched). In all {ctx.latents.latent_dim} dimensions the holes hold '
        f"{holes(ctx):.0%} of the prior's mass (prior draws where a nearest-neighbour estimate "
        f"puts q below {HOLE_RATIO:g}·p). Samples drawn from holes decode to inputs the model "
        "never learned.",
        lambda: AggregateDisplay(d).plot().figure_,
    )


def add_anomalies(
    ctx: AtlasContext, w: FigureWriter, oods: list[tuple[str, ImageSet]]
) -> list[tuple[str, float]]:
    """Figure 10: score histogram (one per OOD set, with its ROC) and the extreme inputs;
    returns (name, ROC AUC) per OOD set."""
    scores = ctx.scores
    if scores is None:
        w.notes.append("Anomalies: the model has no log_px_given_z, so inputs cannot be scored")
        return []
    ranking = rank_anomalies(scores, k=8)
    base = f"−ELBO of each of {len(scores)} test inputs (higher = less expected by the model)."
    if not oods:
        w.add(
            "anomaly-scores",
            "Anomalies",
            "Anomaly scores",
            base,
            lambda: AnomalyDisplay(scores).plot().figure_,
        )
    aucs = []
    for name, images in oods:
        out_scores = neg_elbo_per_image(ctx.source.model, images, seed=ctx.options.seed)
        result = ood_separation(scores, out_scores, name=name)
        aucs.append((name, result.auc))
        w.add(
            f"anomaly-scores-{_slug(name)}",
            "Anomalies",
            f"Anomaly scores vs {name}",
            f"{base} {len(out_scores)} {name} inputs (resized to the model's input) are mixed "
            f"in: ROC AUC {result.auc:.3f} for telling them apart by score (0.5 = chance; "
            "below 0.5 the model finds them more typical than its own data). Other scores, "
            f"same sets: {_other_aucs(ctx, images, scores, out_scores)}.",
            lambda r=result: AnomalyDisplay(scores, r).plot().figure_,
        )
    maps = reconstruction_errors(ctx.source.model, ctx.images[ranking.most]).maps
    w.add(
        "anomaly-examples",
        "Anomalies",
        "Most and least anomalous inputs",
        "Top row: the test inputs the model finds least likely (often mislabelled, "
        "unusually written or cropped); second row: where their reconstruction is wrong "
        "(|input − reconstruction| per pixel, darker = larger); bottom: the most typical "
        "inputs. Titles are −ELBO in nats.",
        lambda: plot_anomaly_examples(
            ctx.images[ranking.most],
            scores[ranking.most],
            ctx.images[ranking.least],
            scores[ranking.least],
            error_maps=maps,
        ),
    )
    return aucs


def _other_aucs(
    ctx: AtlasContext, images: ImageSet, in_scores: np.ndarray, out_scores: np.ndarray
) -> str:
    """ROC AUCs of the reconstruction error and of the typicality score, as caption text."""
    model = ctx.source.model
    out_x = images.images.numpy().astype(np.float32) / 255.0
    recon = ood_separation(
        reconstruction_errors(model, ctx.images).scores,
        reconstruction_errors(model, out_x).scores,
    ).auc
    typical = ood_separation(
        typicality(in_scores, in_scores), typicality(out_scores, in_scores)
    ).auc
    return (
        f"reconstruction error ‖x − x̂‖² {recon:.3f}; typicality |−ELBO − mean test −ELBO| "
        f"(Nalisnick et al. 2019) {typical:.3f}"
    )


def _slug(name: str) -> str:
    from pathlib import Path

    return "".join(c if c.isalnum() else "-" for c in Path(name).name.lower()) or "ood"


def findings(ctx: AtlasContext) -> list[Finding]:
    """Figure 11: measure the evidence and apply the diagnostic rules."""
    acc, sil = ctx.class_quality
    evidence = replace(
        measure_evidence(
            ctx.source.model,
            ctx.latents,
            ctx.images,
            seed=ctx.options.seed,
            kl_per_dim=None if ctx.kl is None else ctx.kl.per_dim,
        ),
        knn_accuracy=acc,
        silhouette=sil,
        n_classes=len(ctx.class_names) if ctx.class_names else None,
    )
    return diagnose(evidence) + diagnose_training(ctx.source.metrics or [])


def resize_to(images: ImageSet, shape: tuple[int, int, int]) -> ImageSet:
    """Bring another dataset's images to a model's (C, H, W): area-resize, grey ↔ RGB."""
    c, h, w = shape
    x = images.images.to(torch.float32)
    if x.shape[1] != c:
        x = x.mean(dim=1, keepdim=True) if c == 1 else x.expand(-1, 3, -1, -1)
    if x.shape[2:] != (h, w):
        x = torch.nn.functional.interpolate(x, size=(h, w), mode="area")
    return ImageSet(x.round().clamp(0, 255).to(torch.uint8), images.labels)


def summary_numbers(ctx: AtlasContext) -> dict[str, str]:
    """Headline numbers for the report's summary table."""
    out: dict[str, str] = {}
    acc, sil = ctx.class_quality
    if acc is not None:
        out["5-NN accuracy on latent means"] = f"{acc:.1%}"
    if sil is not None:
        out["class silhouette"] = f"{sil:.3f}"
    if ctx.scores is not None:
        name = "−ELBO" if ctx.latents.logvar is not None else "reconstruction NLL"
        out[f"mean {name}, test, this report (nats)"] = f"{float(np.mean(ctx.scores)):.2f}"
    if ctx.kl is not None:
        out["total KL, test (nats)"] = f"{ctx.kl.total:.2f}"
    return out
