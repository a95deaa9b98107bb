"""How the latent space formed: probe-set snapshots across epochs aligned to the final epoch by
Procrustes analysis (Gower 1975; Schönemann 1966), so that what moves is the structure, not an
arbitrary rotation, reflection, shift or scale of the whole space. The explorer's ``--follow``
turns each new epoch's map onto the one it replaces with the same fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes


@dataclass(frozen=True)
class AlignedSnapshots:
    """``coords`` (E, P, 2) probe codes per epoch after alignment to the last epoch, shown in the
    final epoch's first two principal directions (or its two dimensions for a 2-D space);
    ``disparity`` (E,) is the aligned mean squared distance to the final codes; ``scale`` (E,)
    the fitted scale factors."""

    epochs: np.ndarray
    coords: np.ndarray
    disparity: np.ndarray
    scale: np.ndarray
    axis_labels: tuple[str, str]


@dataclass(frozen=True)
class Similarity:
    """The map x ↦ s x R + t of row vectors: ``rotation`` R (D, D) orthogonal (a turn, possibly
    mirrored), ``scale`` s ≥ 0, ``shift`` t (D,)."""

    rotation: np.ndarray
    scale: float
    shift: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        """The transformed points (P, D)."""
        return self.scale * np.asarray(points, np.float64) @ self.rotation + self.shift


def fit_similarity(source: np.ndarray, target: np.ndarray, *, scale: bool = True) -> Similarity:
    """The translation, rotation/reflection and (optionally) global scale taking ``source``
    (P, D) closest to ``target`` (P, D) in squared error: s (X − x̄) R + ȳ, with R from the SVD of
    (X − x̄)ᵀ (Y − ȳ) and s = tr(Σ) / ‖X − x̄‖² (Schönemann 1966). A source collapsed to one
    point gets s = 0: every point goes to the target's centre."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    src_mean, tgt_mean = source.mean(axis=0), target.mean(axis=0)
    src, tgt = source - src_mean, target - tgt_mean
    if np.allclose(src, 0):
        return Similarity(np.eye(source.shape[1]), 0.0, tgt_mean)
    rotation, sv_sum = orthogonal_procrustes(src, tgt)
    s = float(sv_sum / np.sum(src**2)) if scale else 1.0
    return Similarity(rotation, s, tgt_mean - s * src_mean @ rotation)


def procrustes_align(
    source: np.ndarray, target: np.ndarray, *, scale: bool = True
) -> tuple[np.ndarray, float, float]:
    """Map ``source`` (P, D) onto ``target`` (P, D) by :func:`fit_similarity`.

    Returns the aligned points (P, D), the scale s and the mean squared residual.
    """
    fit = fit_similarity(source, target, scale=scale)
    aligned = fit.apply(source)
    residual = np.mean(np.sum((aligned - np.asarray(target, np.float64)) ** 2, axis=1))
    return aligned, fit.scale, float(residual)


def align_snapshots(
    epochs: list[int] | np.ndarray, mus: list[np.ndarray], *, scale: bool = True
) -> AlignedSnapshots:
    """Align every snapshot (P, D) to the last one and express all in a shared 2-D view."""
    if not mus:
        raise ValueError("no snapshots to align")
    final = np.asarray(mus[-1], dtype=np.float64)
    aligned, scales, disparity = [], [], []
    for mu in mus:
        a, s, d = procrustes_align(mu, final, scale=scale)
        aligned.append(a)
        scales.append(s)
        disparity.append(d)
    stack = np.stack(aligned)  # (E, P, D)
    if final.shape[1] <= 2:
        coords = stack if final.shape[1] == 2 else np.concatenate([stack, 0 * stack], axis=2)
        labels = ("z1", "z2")
    else:
        center = final.mean(axis=0)
        _, _, vt = np.linalg.svd(final - center, full_matrices=False)
        coords = (stack - center) @ vt[:2].T  # (E, P, 2)
        labels = ("final PC 1", "final PC 2")
    return AlignedSnapshots(
        np.asarray(epochs), coords, np.asarray(disparity), np.asarray(scales), labels
    )
