"""Numbers behind the pictures: encoding, projections, grids, interpolations, samples,
traversals, attribute directions, likelihoods, diagnostics and disentanglement scores. Arrays
and small frozen dataclasses only; nothing here draws."""

from vae_atlas.analysis.aggregate import (
    AggregateDensity,
    aggregate_codes,
    aggregate_density,
    hole_fraction,
)
from vae_atlas.analysis.alignment import AlignedSnapshots, align_snapshots, procrustes_align
from vae_atlas.analysis.anomaly import AnomalyRanking, OODResult, ood_separation, rank_anomalies
from vae_atlas.analysis.attributes import AttributeDirection, apply_direction, class_direction
from vae_atlas.analysis.diagnostics import ACTIVE_KL_THRESHOLD, Finding, active_dimensions, diagnose
from vae_atlas.analysis.encode import LatentSet, decode_latents, encode_images, model_device
from vae_atlas.analysis.evaluation import EvaluationSettings, evaluate_model, evaluate_run
from vae_atlas.analysis.evaluation_file import (
    EvaluationResult,
    EvaluationUnavailable,
    evaluation_table,
    read_evaluation,
    write_evaluation,
)
from vae_atlas.analysis.evidence import Evidence, measure_evidence
from vae_atlas.analysis.grid import LatentGrid, latent_grid, prior_quantiles
from vae_atlas.analysis.interpolation import Interpolation, interpolation_path, lerp, slerp
from vae_atlas.analysis.likelihood import neg_elbo_per_image
from vae_atlas.analysis.projection import Projection, project_latents
from vae_atlas.analysis.quality import (
    ACTIVE_UNIT_THRESHOLD,
    active_units,
    interpolation_roughness,
    interpolation_smoothness,
    kl_per_dim,
    knn_accuracy,
    linear_probe_accuracy,
    silhouette_by_class,
    total_correlation,
)
from vae_atlas.analysis.sampling import (
    prior_samples,
    reconstruct,
    sample_codes,
    sample_prior,
    source_label,
)
from vae_atlas.analysis.training_health import diagnose_training
from vae_atlas.analysis.traversal import Traversal, traverse

__all__ = [
    "ACTIVE_KL_THRESHOLD",
    "ACTIVE_UNIT_THRESHOLD",
    "AggregateDensity",
    "AlignedSnapshots",
    "AnomalyRanking",
    "AttributeDirection",
    "EvaluationResult",
    "EvaluationSettings",
    "EvaluationUnavailable",
    "Evidence",
    "Finding",
    "Interpolation",
    "LatentGrid",
    "LatentSet",
    "OODResult",
    "Projection",
    "Traversal",
    "active_dimensions",
    "active_units",
    "aggregate_codes",
    "aggregate_density",
    "align_snapshots",
    "apply_direction",
    "class_direction",
    "decode_latents",
    "diagnose",
    "diagnose_training",
    "encode_images",
    "evaluate_model",
    "evaluate_run",
    "evaluation_table",
    "hole_fraction",
    "interpolation_path",
    "interpolation_roughness",
    "interpolation_smoothness",
    "kl_per_dim",
    "knn_accuracy",
    "latent_grid",
    "lerp",
    "linear_probe_accuracy",
    "measure_evidence",
    "model_device",
    "neg_elbo_per_image",
    "ood_separation",
    "prior_quantiles",
    "prior_samples",
    "procrustes_align",
    "project_latents",
    "rank_anomalies",
    "read_evaluation",
    "reconstruct",
    "sample_codes",
    "sample_prior",
    "source_label",
    "silhouette_by_class",
    "slerp",
    "total_correlation",
    "traverse",
    "write_evaluation",
]
