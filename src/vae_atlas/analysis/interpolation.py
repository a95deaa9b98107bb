"""Paths between two codes: linear and spherical (slerp; Shoemake 1985, used for generative
models by White 2016, "Sampling generative networks"), and how rough the decoded path is.

Slerp keeps the norm of the path close to that of typical prior samples, where linear paths
through the origin cut through the low-density centre of a high-dimensional Gaussian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

INTERPOLATION_METHODS = ("linear", "slerp")


@dataclass(frozen=True)
class Interpolation:
    """A decoded path: ``t`` (S,), codes ``z`` (S, D), decodings ``images`` (S, C, H, W), and the
    original inputs ``originals`` (2, C, H, W) at the two ends (indices ``index_a``/``index_b``)."""

    method: str
    t: np.ndarray
    z: np.ndarray
    images: np.ndarray
    originals: np.ndarray
    index_a: int
    index_b: int

    @property
    def roughness(self) -> float:
        return path_roughness(self.images)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(1 - t) a + t b for each t (S,) -> (S, D)."""
    t = np.asarray(t, dtype=np.float64).reshape(-1, 1)
    return (1 - t) * np.asarray(a, dtype=np.float64) + t * np.asarray(b, dtype=np.float64)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation: sin((1-t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, Ω the angle between
    a and b; falls back to :func:`lerp` when they are (anti)parallel or one is zero (S, D)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t)
    cos = float(np.clip(a @ b / (na * nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a, b, t)
    t = np.asarray(t, dtype=np.float64).reshape(-1, 1)
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def interpolation_path(
    a: np.ndarray, b: np.ndarray, steps: int, method: str = "linear"
) -> np.ndarray:
    """``steps`` codes (S, D) from ``a`` to ``b`` inclusive."""
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"interpolation {method!r} is not one of {INTERPOLATION_METHODS}")
    if steps < 2:
        raise ValueError(f"steps={steps} must be >= 2")
    t = np.linspace(0.0, 1.0, steps)
    return lerp(a, b, t) if method == "linear" else slerp(a, b, t)


def path_roughness(images: np.ndarray) -> float:
    """Largest step between consecutive decodings over the mean step (L2 in pixel space).

    1 means evenly spaced changes; large values mean the path jumps (a "rough" interpolation).
    Returns 1.0 for paths without change.
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    steps = np.linalg.norm(np.diff(flat, axis=0), axis=1)  # (S-1,)
    mean = steps.mean() if steps.size else 0.0
    return float(steps.max() / mean) if mean > 1e-12 else 1.0


def pick_pair(
    labels: np.ndarray | None,
    class_names: tuple[str, ...] | None,
    *,
    a: int | str | None = None,
    b: int | str | None = None,
) -> tuple[int, int]:
    """Indices of two inputs to interpolate between.

    ``a``/``b`` are an input index (int) or a class name (str; the first input of that class).
    By default: a "1" and a "7" when those class names exist, else the first inputs of the first
    two classes, else inputs 0 and 1.
    """
    names = tuple(class_names or ())
    if a is None and b is None and {"1", "7"} <= set(names):
        a, b = "1", "7"
    resolved = [_resolve(x, labels, names) for x in (a, b)]
    if resolved[0] is None or resolved[1] is None:
        defaults = _default_pair(labels)
        resolved = [r if r is not None else d for r, d in zip(resolved, defaults, strict=True)]
    return int(resolved[0]), int(resolved[1])


def _resolve(
    which: int | str | None, labels: np.ndarray | None, names: tuple[str, ...]
) -> int | None:
    if which is None:
        return None
    if isinstance(which, (int, np.integer)):
        return int(which)
    if which not in names or labels is None:
        raise ValueError(f"class {which!r} is not one of {names or 'the (unlabelled) classes'}")
    hits = np.flatnonzero(np.asarray(labels) == names.index(which))
    if hits.size == 0:
        raise ValueError(f"no input of class {which!r} in this split")
    return int(hits[0])


def _default_pair(labels: np.ndarray | None) -> tuple[int, int]:
    if labels is not None:
        classes = np.unique(labels)
        if classes.size >= 2:
            first = [int(np.flatnonzero(labels == c)[0]) for c in classes[:2]]
            return first[0], first[1]
    return 0, 1


def random_pairs(
    n: int, n_pairs: int, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded index pairs (a, b) into ``n`` inputs with a ≠ b, at most ``n_pairs`` of them.

    Draws with a = b are dropped; with ``labels``, so are pairs of the same class (when any pair
    of different classes exists), since a path within one class shows no crossing between classes.
    """
    if n < 2:
        raise ValueError("interpolation measures need at least two latent codes")
    rng = np.random.default_rng(seed)
    draws = n_pairs if labels is None else 4 * n_pairs
    a, b = (rng.integers(0, n, draws) for _ in range(2))
    keep = a != b
    if labels is not None:
        labels = np.asarray(labels)
        differ = keep & (labels[a] != labels[b])
        keep = differ if differ.any() else keep
    a, b = a[keep][:n_pairs], b[keep][:n_pairs]
    return (a, b) if a.size else (np.array([0]), np.array([1]))


def typical_pair(roughness: Sequence[np.ndarray]) -> int:
    """Index of the candidate path that is typical in every run at once.

    ``roughness[r][i]`` is the roughness of candidate path i in run r. Each run's candidates are
    ranked and scaled to quantiles in [0, 1] (0 = its smoothest path); the chosen candidate
    minimises the largest distance of its quantile from the median (0.5) over the runs, so each
    run's strip shows neither its smoothest nor its roughest path but one near its median. Ties
    go to the lower index.
    """
    ranks = np.stack([np.argsort(np.argsort(r, kind="stable"), kind="stable") for r in roughness])
    n = ranks.shape[1]
    if n == 0:
        raise ValueError("no candidate pairs to choose from")
    quantiles = ranks / max(n - 1, 1)
    return int(np.argmin(np.abs(quantiles - 0.5).max(axis=0)))
