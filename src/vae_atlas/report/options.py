"""Report settings: one frozen, validated dataclass (the CLI fills it from its flags)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vae_atlas.analysis.projection import METHODS

MAX_GRID_SIZE = 50  # 2,500 decoded cells; the grid's memory grows with its square


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """What to draw and how much.

    ``projections`` are used for latent spaces with more than two dimensions (PCA is always
    drawn; ``tsne``/``umap`` are slower and cached). By default UMAP is drawn too: PCA keeps
    only the two widest directions and mixes the classes of a many-dimensional space, while
    UMAP keeps each code's neighbours; on the at most ``max_points`` = 10,000 codes it takes
    about 40 s once, then comes from the run's cache. ``interpolation`` picks the two inputs by
    test-set index or class name (default: a "1" and a "7" for digits). ``attribute_csv`` with
    ``attribute_column`` gives a binary attribute per *test* image; otherwise
    ``attribute_classes`` (default "4" → "9" where those classes exist) defines the direction.
    ``attributes`` names the dataset's own binary attributes (CelebA's, a folder's table) whose
    directions are drawn (default: :func:`~vae_atlas.analysis.attribute_scores.choose_attributes`).
    ``dims`` (0-based) are the two latent dimensions shown by the clouds, the aggregate
    posterior and (above 2-D) the decoded grid; default: the two with the most KL, and the
    grid's plane of the top-2 principal directions. ``grid_base`` is the test input whose code
    holds the other coordinates of the grid (default: the mean code).
    """

    projections: tuple[str, ...] = ("pca", "umap")
    grid_size: int = 15
    interpolation: tuple[int | str | None, int | str | None] = (None, None)
    interpolation_steps: int = 10
    attribute_classes: tuple[str, str] | None = None
    attribute_csv: Path | None = None
    attribute_column: str | None = None
    attributes: tuple[str, ...] | None = None
    dims: tuple[int, int] | None = None
    grid_base: int | None = None
    max_points: int = 10_000
    n_clouds: int = 60
    gifs: bool = True
    seed: int = 0
    dpi: int = 144

    def __post_init__(self) -> None:
        for method in self.projections:
            if method not in METHODS:
                raise ValueError(f"projections: {method!r} is not one of {', '.join(METHODS)}")
        if not 2 <= self.grid_size <= MAX_GRID_SIZE:
            raise ValueError(f"grid_size={self.grid_size} must be between 2 and {MAX_GRID_SIZE}")
        if self.interpolation_steps < 2:
            raise ValueError(f"interpolation_steps={self.interpolation_steps} must be >= 2")
        if self.max_points < 10:
            raise ValueError(f"max_points={self.max_points} must be >= 10")
        if self.dims is not None and (
            len(self.dims) != 2 or self.dims[0] == self.dims[1] or min(self.dims) < 0
        ):
            raise ValueError(f"dims={self.dims} (0-based) must be two different dimensions >= 0")
        if (self.attribute_csv is None) != (self.attribute_column is None):
            raise ValueError("attribute_csv and attribute_column go together")
