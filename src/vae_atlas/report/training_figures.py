"""Report figures from the training record: loss curves, KL per dimension over epochs, and how
the space formed (Procrustes-aligned probe snapshots, small multiples + GIF)."""

from __future__ import annotations

from vae_atlas.analysis.alignment import align_snapshots
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.items import FigureWriter
from vae_atlas.viz import KLHeatmapDisplay, SnapshotsDisplay, TrainingCurvesDisplay

SECTION = "Training"


def add_training(ctx: AtlasContext, w: FigureWriter) -> None:
    metrics = ctx.source.metrics
    if not metrics:
        w.notes.append("Training figures: no metrics (a model given directly, not a run)")
        return
    w.add(
        "training-curves",
        SECTION,
        "Training curves",
        "−ELBO and its two parts per epoch, on training batches (solid), the validation split "
        "(dotted, when the run holds one out) and the test set (dashed). A held-out curve that "
        "turns up while training keeps falling is overfitting; a KL that stays near zero means "
        "the code is unused. The diagnostics read these curves.",
        lambda: TrainingCurvesDisplay(metrics).plot().figure_,
    )
    if any(m.get("test_kl_per_dim") is not None for m in metrics):
        w.add(
            "kl-heatmap",
            SECTION,
            "KL per dimension over training",
            "Held-out KL of every latent dimension per epoch. Dimensions that stay dark never "
            "became active (posterior collapse); bright rows carry the information.",
            lambda: KLHeatmapDisplay.from_metrics(metrics).plot().figure_,
        )
    snaps = ctx.source.snapshots
    if len(snaps) < 2:
        return
    if snaps[0].mu.shape[0] < 2:  # a Procrustes fit needs points; --probe-size 0 keeps none
        w.notes.append("How the space formed: the run kept no probe inputs (--probe-size 0)")
        return
    aligned = align_snapshots([s.epoch for s in snaps], [s.mu.double().numpy() for s in snaps])
    names = ctx.class_names
    display = SnapshotsDisplay(aligned, ctx.source.probe_labels, len(names) if names else None)
    w.add(
        "formation",
        SECTION,
        "How the space formed",
        f"The same {aligned.coords.shape[1]} held-out probe inputs encoded after each epoch. "
        "Each epoch is aligned to the last by a Procrustes fit (shift, rotation/reflection, "
        "scale), so the motion you see is the structure forming, not the space spinning. "
        "The GIF plays every epoch (sub-sampled).",
        lambda: display.plot().figure_,
        frames=(lambda: display.frames()) if ctx.options.gifs else None,
        ms_per_frame=180,
    )
