"""Pictures of what :mod:`vae_atlas.analysis` computed, drawn with matplotlib.

Every function takes ``ax=`` or ``fig=`` (made fresh when omitted) and returns what it drew; the
richer plots are Display objects in the style of scikit-learn (compute once, ``plot`` many times;
``plot`` stores ``ax_`` / ``figure_`` and returns ``self``). Nothing here saves or shows figures.
"""

from vae_atlas.viz.anomaly import AnomalyDisplay, plot_anomaly_examples
from vae_atlas.viz.clouds import PosteriorCloudsDisplay
from vae_atlas.viz.density import AggregateDisplay
from vae_atlas.viz.grids import ManifoldDisplay, plot_image_grid
from vae_atlas.viz.samples import plot_prior_samples, plot_reconstructions
from vae_atlas.viz.scatter import LatentScatter3DDisplay, LatentScatterDisplay
from vae_atlas.viz.sequences import AttributeDisplay, InterpolationDisplay, TraversalDisplay
from vae_atlas.viz.style import class_colors, image_mosaic, render_rgb
from vae_atlas.viz.training import (
    KLHeatmapDisplay,
    SnapshotsDisplay,
    TrainingCurvesDisplay,
)

__all__ = [
    "AggregateDisplay",
    "AnomalyDisplay",
    "AttributeDisplay",
    "InterpolationDisplay",
    "KLHeatmapDisplay",
    "LatentScatter3DDisplay",
    "LatentScatterDisplay",
    "ManifoldDisplay",
    "PosteriorCloudsDisplay",
    "SnapshotsDisplay",
    "TrainingCurvesDisplay",
    "TraversalDisplay",
    "class_colors",
    "image_mosaic",
    "plot_anomaly_examples",
    "plot_image_grid",
    "plot_prior_samples",
    "plot_reconstructions",
    "render_rgb",
]
