"""Request and response models of the explorer's JSON API (pydantic, served in /openapi.json).

Every latent coordinate a client sends is a finite float bounded by :data:`MAX_ABS_LATENT`;
batches are capped by :data:`MAX_BATCH`. The vector length is checked against the run by the
endpoints (it differs per run), so a wrong length is a 422 with a message, like the rest.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ABS_LATENT = 1e4
MAX_BATCH = 256
MAX_DIM = 4096
MAX_STEPS = 64
MAX_SAMPLES = 144

Coordinate = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=-MAX_ABS_LATENT, le=MAX_ABS_LATENT)
]
LatentVector = Annotated[list[Coordinate], Field(min_length=1, max_length=MAX_DIM)]
ProjectionName = Literal["latent", "pca", "dims", "umap", "tsne", "orbit"]
Angle = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e4, le=1e4)]
ImageFormat = Literal["png", "array"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConditionInfo(BaseModel):
    """What a cvae decodes under: a class (``labels``, ``names`` the classes) or attribute
    values (``attributes``, ``names`` the attributes in order, ``binary`` per attribute)."""

    kind: Literal["labels", "attributes"]
    names: list[str]
    binary: list[bool] | None = None


class _Conditioned(_Strict):
    """A cvae's decoding requests may choose the condition (default: each code's own)."""

    y: Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)] | None = Field(
        None, description="cvae on labels: decode under this class"
    )
    attrs: Annotated[list[Coordinate], Field(min_length=1, max_length=MAX_DIM)] | None = Field(
        None, description="cvae on attributes: decode under these values, in the run's order"
    )


class DimInfo(BaseModel):
    """One latent dimension: its mean KL (nats), the variance of its means and slider range."""

    index: int
    kl: float
    variance: float
    active: bool
    lo: float
    hi: float


class RunSummary(BaseModel):
    id: str
    name: str
    latent_dim: int
    objective: str
    family: str
    dataset: str
    n_points: int
    level: str | None = Field(
        None, description="the level a two-level hierarchical VAE shows, in words; else null"
    )


class RunDetail(RunSummary):
    """Everything the page needs once per run: shapes, labels, per-dimension statistics."""

    image_shape: tuple[int, int, int]
    stochastic: bool
    class_names: list[str] | None
    class_colors: list[str] = Field(
        description="#rrggbb per class as in the report (one colour in all for unlabelled points)"
    )
    labels: list[int] | None
    dims: list[DimInfo] = Field(description="per dimension, sorted by KL (largest first)")
    n_active: int
    active_kl_threshold: float = Field(description="a VAE's dimension is active above this KL")
    mean: list[float] = Field(description="mean of the latent means: the default anchor")
    projections: list[ProjectionName]
    default_projection: ProjectionName
    in_page_decoder: bool = Field(
        description="whether GET .../decoder serves weights the page runs (MLP or conv)"
    )
    prior: str = Field(description="what 'sample from the prior' draws from")
    version: int = Field(
        0, description="goes up each time newer weights are swapped in (explore --follow)"
    )
    condition: ConditionInfo | None = Field(
        None, description="a cvae: what its codes can be decoded under (null: not a cvae)"
    )


class AnomalyScores(BaseModel):
    """A score per shown point (higher = more unusual) and how the page colours it: ``ramp``
    spread evenly from ``lo`` to ``hi`` (the 1st and 99th percentiles), clipped beyond."""

    name: str
    scores: list[float]
    lo: float
    hi: float
    ramp: list[str]


class LinearMap(BaseModel):
    """map position p = axes · (z − center); axes (2, D) has orthonormal rows, times the map's
    ``frame`` when it was aligned to an earlier map."""

    axes: list[list[float]]
    center: list[float]


class MapResponse(BaseModel):
    projection: ProjectionName
    dims: tuple[int, int] | None
    x: list[float]
    y: list[float]
    linear: LinearMap | None = Field(description="null for UMAP/t-SNE (not invertible)")
    frame: list[list[float]] | None = Field(
        None,
        description="the 2×2 turn and scale F that aligned this map to the previous epoch's "
        "(explore --follow): a linear map's axes are F times the projection's own; null: not "
        "aligned",
    )
    basis: list[list[float]] | None = Field(
        None, description="the 3-D view's B (3, D): orbit.bin holds B (μ − center) per point"
    )
    seconds: float = Field(description="time it took to compute this projection")


class MapJobStatus(BaseModel):
    """A slow map computed in the background: where it stands."""

    state: Literal["computing", "ready", "failed"]
    progress: float | None = Field(None, description="fraction done (t-SNE), null if unknown")
    seconds: float = Field(description="seconds since the job started")
    message: str | None = Field(None, description="why it failed")


class DecodeRequest(_Conditioned):
    z: Annotated[list[LatentVector], Field(min_length=1, max_length=MAX_BATCH)]
    format: ImageFormat = "png"


class DecodeResponse(BaseModel):
    shape: tuple[int, int, int, int]
    images: list[str] | None = Field(None, description="PNG data URIs (format=png)")
    data: list[float] | None = Field(None, description="flat (B, C, H, W) in [0, 1] (array)")


class Ellipse(BaseModel):
    """The 1-σ contour of the posterior projected onto the map: centre, semi-axes, angle (rad)."""

    cx: float
    cy: float
    rx: float
    ry: float
    angle: float


class Neighbour(BaseModel):
    index: int
    label: int | None
    distance: float
    image: str


class Posterior(BaseModel):
    """An encoded image: mean, σ, its map position, its cloud and its nearest neighbours."""

    mu: list[float]
    sigma: list[float] | None
    position: tuple[float, float]
    ellipse: Ellipse | None
    cloud: list[tuple[float, float]] = Field(description="posterior samples placed on the map")
    reconstruction: str
    neighbours: list[Neighbour]


class PointDetail(Posterior):
    index: int
    label: int | None
    class_name: str | None
    original: str


class UploadResult(Posterior):
    input: str = Field(description="the upload after preprocessing, as the model saw it")
    inverted: bool
    original_size: tuple[int, int]
    normalisation: str = Field(description="how the upload was laid out before encoding")


class ViewQuery(_Strict):
    projection: ProjectionName = "pca"
    dims: tuple[int, int] | None = None
    orbit: tuple[Angle, Angle] | None = Field(
        None, description="the 3-D view's (yaw, pitch) in radians (projection 'orbit')"
    )


MapPoint = tuple[
    Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)],
    Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)],
]


class SelectionRequest(ViewQuery):
    """The points inside a lasso drawn on a map (a polygon in map coordinates)."""

    polygon: Annotated[list[MapPoint], Field(min_length=3, max_length=1024)]
    members: Annotated[int, Field(ge=0, le=64)] = 24


class SelectionSummary(BaseModel):
    indices: list[int] = Field(description="the selected points, ascending")
    counts: list[int] | None = Field(description="points per class (null: no labels)")
    mean: list[float] | None = Field(description="the selected points' mean code")
    mean_image: str | None = Field(description="that mean code decoded (PNG data URI)")
    members: list[str] = Field(description="the first selected points' images (PNG data URIs)")


class InterpolateRequest(ViewQuery, _Conditioned):
    a: LatentVector
    b: LatentVector
    steps: Annotated[int, Field(ge=2, le=MAX_STEPS)] = 10
    method: Literal["linear", "spherical"] = "linear"


class PathResponse(BaseModel):
    z: list[list[float]]
    images: list[str]
    path: list[tuple[float, float]]


class SampleRequest(ViewQuery, _Conditioned):
    n: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] = 36
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    source: Literal["prior", "fitted"] | None = Field(
        None,
        description="the prior N(0, I), or a Gaussian fitted to the data's codes "
        "(default: the prior for a VAE, the fitted Gaussian for a plain autoencoder)",
    )


class SampleResponse(PathResponse):
    source: str = Field(description="where the codes were drawn from, in words")
    source_kind: Literal["prior", "fitted"]


class InspectRequest(ViewQuery):
    """Describe any code (a clicked location, a sample, an upload) like a data point."""

    z: LatentVector
    sigma: (
        list[Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_ABS_LATENT)]]
        | None
    ) = None
    k: Annotated[int, Field(ge=0, le=32)] = 8


class PlaceRequest(ViewQuery):
    z: Annotated[list[LatentVector], Field(min_length=1, max_length=MAX_BATCH)]


class LiftResponse(BaseModel):
    z: list[float]
