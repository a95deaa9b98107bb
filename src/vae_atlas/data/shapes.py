"""Procedural dSprites-like shapes: white square, ellipse or heart on black, with known factors.

Modelled on dSprites (Matthey, Higgins, Hassabis & Lerchner 2017), the benchmark of β-VAE
(Higgins et al. 2017): every image is generated from five independent factors, each drawn
uniformly from a discrete grid, so disentanglement metrics can compare latents with the truth.

Each shape is defined in a local frame where it fits the unit disc for every rotation; the disc
is scaled by ``scale * _RADIUS`` (a fraction of the image side) and its centre kept ``_RADIUS``
plus one pixel from the border, so even the largest shape is never clipped. Rotating a shape is
done by rotating the coordinate grid. The square and the ellipse are symmetric under 90° and 180°
turns, so (as in dSprites) their rotation is only partly identifiable from the image. The 40
rotations are distinct turns 2πi/40; dSprites' own grid runs from 0 to 2π inclusive, so its first
and last rotation draw the same image.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from vae_atlas.data.dataset import DataError, Dataset, split_train_test

SHAPES_CLASS_NAMES = ("square", "ellipse", "heart")
SHAPES_FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
SHAPES_FACTOR_VALUES: tuple[tuple[float, ...], ...] = (
    (0.0, 1.0, 2.0),
    tuple(round(0.5 + 0.1 * i, 6) for i in range(6)),
    tuple(2.0 * math.pi * i / 40 for i in range(40)),
    tuple(i / 31 for i in range(32)),
    tuple(i / 31 for i in range(32)),
)
"""The discrete grid of each factor, in ``SHAPES_FACTOR_NAMES`` order (rotation in radians;
x and y in [0, 1], left-to-right and top-to-bottom)."""
SHAPES_FACTOR_SIZES: tuple[int, ...] = tuple(len(v) for v in SHAPES_FACTOR_VALUES)
"""Number of values per factor: (3, 6, 40, 32, 32)."""
SHAPES_IMAGE_SIZES = (32, 64)

_RADIUS = 0.2  # radius of the disc holding a scale-1 shape, as a fraction of the image side
_BATCH = 1024


def load_shapes(
    *, image_size: int = 64, n_samples: int = 20_000, test_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """Sample ``n_samples`` shapes with independent random factors and render them.

    Parameters
    ----------
    image_size
        32 or 64 (pixels per side).
    n_samples
        Number of images (train + test).
    test_fraction, seed
        The split, and the seed of both the factor sampling and the split; the same seed always
        gives identical tensors.

    Returns
    -------
    Dataset
        uint8 images (N, 1, S, S) with values 0 or 255; labels = shape index (N,);
        factors float32 (N, 5) holding the factor values named by ``SHAPES_FACTOR_NAMES``.
    """
    if image_size not in SHAPES_IMAGE_SIZES:
        raise DataError(f"shapes: image_size={image_size!r} is not supported; use 32 or 64")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise DataError(f"shapes: n_samples={n_samples!r} must be an integer >= 2")
    rng = np.random.default_rng(seed)
    factors = sample_shape_factors(n_samples, rng)
    images = torch.from_numpy(render_shapes(factors, image_size=image_size))
    labels = torch.from_numpy(factors[:, 0].astype(np.int64))
    train, test = split_train_test(
        images, labels, torch.from_numpy(factors), test_fraction=test_fraction, seed=seed
    )
    return Dataset(
        name="shapes",
        train=train,
        test=test,
        class_names=SHAPES_CLASS_NAMES,
        factor_names=SHAPES_FACTOR_NAMES,
    )


def sample_shape_factors(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Draw each factor independently and uniformly from its grid; float32 (n_samples, 5)."""
    columns = [
        np.asarray(values, dtype=np.float32)[rng.integers(0, len(values), n_samples)]
        for values in SHAPES_FACTOR_VALUES
    ]
    return np.stack(columns, axis=1)  # (N, 5)


def shape_factor_values(index: np.ndarray) -> np.ndarray:
    """Factor values float32 (N, 5) of factor indices (N, 5) into ``SHAPES_FACTOR_VALUES``."""
    index = np.asarray(index)
    return np.stack(
        [np.asarray(v, dtype=np.float32)[index[:, k]] for k, v in enumerate(SHAPES_FACTOR_VALUES)],
        axis=1,
    )  # (N, 5)


def shape_factor_index(values: np.ndarray) -> np.ndarray:
    """Grid indices int64 (N, 5) of factor values (N, 5): each value's nearest grid point."""
    values = np.asarray(values, dtype=np.float64)
    return np.stack(
        [np.abs(values[:, k, None] - np.asarray(v)[None, :]).argmin(axis=1)
         for k, v in enumerate(SHAPES_FACTOR_VALUES)],
        axis=1,
    )  # fmt: skip


def render_shapes(factors: np.ndarray, *, image_size: int = 64) -> np.ndarray:
    """Render shapes from factor values.

    Parameters
    ----------
    factors
        (N, 5) factor values (shape index, scale, rotation, x, y), e.g. from
        :func:`sample_shape_factors`; values need not lie on the grid.
    image_size
        Pixels per side.

    Returns
    -------
    numpy.ndarray
        uint8 (N, 1, image_size, image_size), 255 inside the shape and 0 outside.
    """
    factors = np.asarray(factors, dtype=np.float32)
    if factors.ndim != 2 or factors.shape[1] != len(SHAPES_FACTOR_NAMES):
        raise ValueError(f"factors must have shape (N, 5), got {factors.shape}")
    out = np.empty((len(factors), 1, image_size, image_size), dtype=np.uint8)
    centres = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size  # pixel centres
    for start in range(0, len(factors), _BATCH):
        batch = factors[start : start + _BATCH]
        out[start : start + len(batch), 0] = _render_batch(batch, centres) * np.uint8(255)
    return out


def _render_batch(factors: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Boolean masks (B, S, S) for a batch of factor rows."""
    size = len(centres)
    margin = _RADIUS + 1.0 / size
    inside = np.zeros((len(factors), size, size), dtype=bool)
    for code, test in enumerate((_in_square, _in_ellipse, _in_heart)):
        rows = np.flatnonzero(factors[:, 0].round() == code)
        if rows.size == 0:
            continue
        _, scale, angle, x, y = (col[:, None, None] for col in factors[rows].T)  # each (b, 1, 1)
        radius = scale * _RADIUS
        dx = (centres[None, None, :] - (margin + x * (1 - 2 * margin))) / radius  # (b, 1, S)
        dy = ((margin + y * (1 - 2 * margin)) - centres[None, :, None]) / radius  # (b, S, 1), up
        cos, sin = np.cos(angle), np.sin(angle)
        # Rotating the grid by -angle turns the shape by +angle (counter-clockwise).
        inside[rows] = test(cos * dx + sin * dy, cos * dy - sin * dx)  # (b, S, S)
    return inside


def _in_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    half_side = 1.0 / math.sqrt(2.0)  # corners on the unit circle
    return np.maximum(np.abs(u), np.abs(v)) <= half_side


def _in_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u * u + 4.0 * v * v <= 1.0  # semi-axes 1 and 1/2


def _in_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # The implicit heart (x² + y² - 1)³ ≤ x² y³ spans y in [-1, 1.24]; every point lies within
    # 1.25 of (0, 0.25), so shifting and scaling by 1.25 puts it in the unit disc.
    x = 1.25 * u
    y = 1.25 * v + 0.25
    r = x * x + y * y - 1.0
    return r * r * r <= x * x * y * y * y
