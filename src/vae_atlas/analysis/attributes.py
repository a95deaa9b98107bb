"""Attribute directions (White 2016; Larsen et al. 2016): the difference between the mean codes
of inputs with and without an attribute — two classes ("make the 4 a 9") or a binary column of a
user's CSV ("add a smile") — added in steps to an input's code and decoded.

A plain difference of means also carries every way the two groups differ: if most bold digits
are 0s, "add bold" turns a 7 into a 0. :func:`within_class_direction` takes the difference inside
each class and averages those, so the class mix of the two groups cannot leak in.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from vae_atlas.analysis.encode import decode_latents


@dataclass(frozen=True)
class AttributeDirection:
    """``vector`` (D,) = mean code with the attribute − mean code without it; ``name`` says what
    it does; ``n_with`` / ``n_without`` how many inputs each mean was taken over."""

    vector: np.ndarray
    name: str
    n_with: int
    n_without: int


@dataclass(frozen=True)
class AttributeEdit:
    """An input's ``original`` (C, H, W) and the decodings ``images`` (S, C, H, W) of
    ``base + alphas[s] * direction.vector``."""

    direction: AttributeDirection
    base: np.ndarray
    alphas: np.ndarray
    images: np.ndarray
    original: np.ndarray


def direction_from_mask(mu: np.ndarray, mask: np.ndarray, name: str) -> AttributeDirection:
    """Mean of ``mu[mask]`` minus mean of ``mu[~mask]`` for a boolean mask (N,)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[0] != mu.shape[0]:
        raise ValueError(
            f"the attribute has {mask.shape[0]} values but there are {mu.shape[0]} codes"
        )
    if mask.all() or not mask.any():
        raise ValueError(f"attribute {name!r} needs inputs both with and without it")
    vector = mu[mask].mean(axis=0) - mu[~mask].mean(axis=0)
    return AttributeDirection(vector, name, int(mask.sum()), int((~mask).sum()))


def within_class_direction(
    mu: np.ndarray, mask: np.ndarray, labels: np.ndarray, name: str
) -> AttributeDirection:
    """Σ_c w_c (mean of ``mu[mask & c]`` − mean of ``mu[~mask & c]``) over the classes c that
    hold inputs with and without the attribute, with w_c ∝ n_with,c · n_without,c / n_c (the
    weights of a regression of the codes on the attribute with the class regressed out)."""
    mask, labels = np.asarray(mask, dtype=bool), np.asarray(labels)
    if mask.shape[0] != mu.shape[0] or labels.shape[0] != mu.shape[0]:
        raise ValueError(f"the attribute and labels must have one value per code ({mu.shape[0]})")
    diffs, weights = [], []
    for c in np.unique(labels):
        in_c = labels == c
        n_with, n_without = int((mask & in_c).sum()), int((~mask & in_c).sum())
        if n_with and n_without:
            diffs.append(mu[mask & in_c].mean(axis=0) - mu[~mask & in_c].mean(axis=0))
            weights.append(n_with * n_without / (n_with + n_without))
    if not diffs:
        raise ValueError(f"attribute {name!r}: no class has inputs both with and without it")
    vector = np.average(np.stack(diffs), axis=0, weights=np.asarray(weights))
    return AttributeDirection(vector, name, int(mask.sum()), int((~mask).sum()))


def clear_example(
    model: nn.Module, mu: np.ndarray, images: np.ndarray, labels: np.ndarray, src: int, dst: int
) -> int:
    """The input of class ``src`` whose reconstruction looks most like class ``src`` and least
    like ``dst``: it maximises ‖x̂ − m_dst‖ − ‖x̂ − m_src‖, with m_c the mean image of class c
    in ``images`` (N, C, H, W). In a crowded 2-D space the code nearest a class's mean can
    decode to the neighbouring class, which would make an edit towards it show nothing."""
    labels = np.asarray(labels)
    members = np.flatnonzero(labels == src)
    if members.size == 0 or not np.any(labels == dst):
        raise ValueError(f"classes {src} and {dst} both need inputs")
    recon = decode_latents(model, mu[members]).reshape(members.size, -1).astype(np.float64)
    flat = np.asarray(images, dtype=np.float64).reshape(len(labels), -1)
    m_src, m_dst = flat[labels == src].mean(axis=0), flat[labels == dst].mean(axis=0)
    margin = np.linalg.norm(recon - m_dst, axis=1) - np.linalg.norm(recon - m_src, axis=1)
    return int(members[np.argmax(margin)])


def class_direction(
    mu: np.ndarray, labels: np.ndarray, source: int, target: int, *, name: str | None = None
) -> AttributeDirection:
    """From class ``source``'s mean code to class ``target``'s (only those two classes count)."""
    labels = np.asarray(labels)
    keep = (labels == source) | (labels == target)
    direction = direction_from_mask(
        mu[keep], labels[keep] == target, name or f"{source} → {target}"
    )
    return direction


def read_attribute_csv(path: str | Path, column: str, n_images: int) -> np.ndarray:
    """A boolean mask (N,) from column ``column`` of a CSV with one row per image, in image order,
    or with an ``index`` column giving each row's image index. Values: 1/0, true/false, yes/no."""
    path = Path(path)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or column not in rows[0]:
        found = list(rows[0]) if rows else []
        raise ValueError(f"{path}: no column {column!r} (columns: {found})")
    mask = np.zeros(n_images, dtype=bool)
    seen = np.zeros(n_images, dtype=bool)
    for row_no, row in enumerate(rows):
        index = int(row["index"]) if "index" in row and row["index"] != "" else row_no
        if not 0 <= index < n_images:
            raise ValueError(f"{path}: row {row_no + 2} names image {index} of {n_images}")
        mask[index], seen[index] = _truth(row[column], path, row_no), True
    if not seen.all():
        raise ValueError(f"{path}: {int((~seen).sum())} images have no {column!r} value")
    return mask


def _truth(text: str, path: Path, row_no: int) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "y"):
        return True
    if value in ("0", "false", "no", "n", "-1"):
        return False
    raise ValueError(f"{path}: row {row_no + 2}: {text!r} is not a yes/no value")


def apply_direction(
    model: nn.Module,
    direction: AttributeDirection,
    base: np.ndarray,
    original: np.ndarray,
    *,
    alphas: np.ndarray | None = None,
) -> AttributeEdit:
    """Decode ``base + α · direction`` for α in ``alphas`` (default 0, 0.25, …, 1.5)."""
    alphas = np.linspace(0.0, 1.5, 7) if alphas is None else np.asarray(alphas, dtype=np.float64)
    z = np.asarray(base, dtype=np.float64) + alphas[:, None] * direction.vector  # (S, D)
    return AttributeEdit(direction, np.asarray(base), alphas, decode_latents(model, z), original)
