"""Automatic diagnostics: a short list of findings about a latent space, each with the numbers
behind it. Every rule and its threshold is named here.

* **Posterior collapse** (Bowman et al. 2016; Lucas et al. 2019): dimensions whose mean KL to the
  prior is below ``ACTIVE_KL_THRESHOLD`` carry no information about the input
  (:func:`active_dimensions` is the one definition of an active dimension).
* **Decoder ignores z** (Chen et al. 2017): decodings of different prior samples hardly differ —
  their per-pixel variance is below ``DECODER_VARIANCE_RATIO`` of the data's.
* **Means far from the prior**: more than ``FAR_FRACTION`` of the posterior means lie outside the
  sphere holding 1 − ``FAR_TAIL`` of the prior's mass (χ² quantile); prior samples then land in
  regions the decoder never saw (typical of plain autoencoders).
* **Holes**: more than ``HOLE_MASS_MAX`` of the prior's mass lies where the aggregate posterior is
  below ``aggregate.HOLE_RATIO`` of the prior.
* **Jumbled classes**: kNN accuracy on the latent means below ``KNN_MIN_ACCURACY`` or class
  silhouette below ``SILHOUETTE_MIN``.
* **Rough interpolations**: the median over random pairs of the largest decoded step over the mean
  step (:func:`~vae_atlas.analysis.quality.interpolation_roughness`) exceeds ``ROUGH_RATIO``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2
from torch import nn

from vae_atlas.analysis.encode import LatentSet, decode_latents
from vae_atlas.analysis.quality import interpolation_roughness
from vae_atlas.analysis.sampling import sample_prior

ACTIVE_KL_THRESHOLD = 0.01
"""Nats. Below it a dimension's posterior is (nearly) the prior whatever the input, so the
dimension carries no information and the decoder learns to ignore it. The value mirrors the 0.01
cut Burda et al. (2016) put on the variance of the means for their "active units"."""

DECODER_VARIANCE_RATIO = 0.05
FAR_TAIL = 0.001
FAR_FRACTION = 0.05
HOLE_MASS_MAX = 0.10
KNN_MIN_ACCURACY = 0.5
SILHOUETTE_MIN = 0.0
ROUGH_RATIO = 3.0

SEVERITIES = ("ok", "note", "warning")


@dataclass(frozen=True)
class Finding:
    """One diagnostic: ``rule`` id, ``severity`` (ok / note / warning), a one-line ``title``, a
    ``detail`` sentence, and the ``numbers`` (name → value) and ``threshold`` behind it."""

    rule: str
    severity: str
    title: str
    detail: str
    numbers: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None


@dataclass(frozen=True)
class Evidence:
    """The measurements the rules read; ``None`` means "not measured / not applicable".

    ``kl_per_dim`` (D,) is None for a plain autoencoder; ``mu`` (N, D) are test-set means.
    """

    mu: np.ndarray
    kl_per_dim: np.ndarray | None = None
    decoder_variance_ratio: float | None = None
    hole_mass: float | None = None
    knn_accuracy: float | None = None
    silhouette: float | None = None
    n_classes: int | None = None
    roughness: float | None = None


def active_dimensions(kl_per_dim: np.ndarray | Sequence[float]) -> np.ndarray:
    """Which dimensions are active, bool (D,): mean KL per dimension ``kl_per_dim`` (D,), nats,
    at least ``ACTIVE_KL_THRESHOLD``."""
    return np.asarray(kl_per_dim, dtype=np.float64) >= ACTIVE_KL_THRESHOLD


def decoder_variance_ratio(
    model: nn.Module, data: np.ndarray, *, n: int = 256, seed: int = 0
) -> float:
    """Mean per-pixel variance of n decoded prior samples over that of ``data`` (N, C, H, W)."""
    images = decode_latents(model, sample_prior(n, int(model.latent_dim), seed=seed))
    data_var = float(np.mean(np.var(np.asarray(data, dtype=np.float64), axis=0)))
    return float(np.mean(np.var(images, axis=0)) / max(data_var, 1e-12))


def median_roughness(
    model: nn.Module, mu: np.ndarray, *, pairs: int = 8, steps: int = 12, seed: int = 0
) -> float:
    """:func:`~vae_atlas.analysis.quality.interpolation_roughness` of ``pairs`` random pairs."""
    latents = LatentSet(np.asarray(mu, dtype=np.float64), None)
    return interpolation_roughness(model, latents, n_pairs=pairs, n_steps=steps, seed=seed)


def diagnose(evidence: Evidence) -> list[Finding]:
    """Apply every rule to ``evidence``; rules whose numbers are missing are skipped."""
    rules = (_collapse, _decoder, _far, _holes, _classes, _rough)
    return [f for rule in rules if (f := rule(evidence)) is not None]


def _collapse(ev: Evidence) -> Finding | None:
    if ev.kl_per_dim is None:
        return Finding(
            "collapse",
            "note",
            "Plain autoencoder: no posterior, so no KL or collapse to measure",
            "Each input maps to a point; nothing ties the codes to the N(0, I) prior.",
        )
    kl = np.asarray(ev.kl_per_dim)
    n_low, d = int(np.sum(~active_dimensions(kl))), kl.size
    numbers = {"collapsed_dims": n_low, "latent_dim": d, "total_kl": float(kl.sum())}
    if n_low == d:
        sev, title = (
            "warning",
            f"Posterior collapse: all {d} dimensions carry < {ACTIVE_KL_THRESHOLD} nats",
        )
    elif n_low:
        sev, title = (
            "note",
            f"{n_low} of {d} dimensions are inactive (< {ACTIVE_KL_THRESHOLD} nats)",
        )
    else:
        sev, title = "ok", f"All {d} dimensions are in use (each ≥ {ACTIVE_KL_THRESHOLD} nats)"
    detail = f"KL per dimension ranges {kl.min():.3g}–{kl.max():.3g} nats (total {kl.sum():.3g})."
    return Finding("collapse", sev, title, detail, numbers, ACTIVE_KL_THRESHOLD)


def _decoder(ev: Evidence) -> Finding | None:
    r = ev.decoder_variance_ratio
    if r is None:
        return None
    bad = r < DECODER_VARIANCE_RATIO
    title = "Decoder ignores z" if bad else "Decoder uses z"
    detail = (
        f"Decoded prior samples vary {r:.1%} as much per pixel as the data "
        f"(rule: < {DECODER_VARIANCE_RATIO:.0%} means the decoder ignores the code)."
    )
    return Finding(
        "decoder",
        "warning" if bad else "ok",
        title,
        detail,
        {"variance_ratio": r},
        DECODER_VARIANCE_RATIO,
    )


def _far(ev: Evidence) -> Finding | None:
    mu = np.asarray(ev.mu)
    d = mu.shape[1]
    radius2 = float(chi2.ppf(1 - FAR_TAIL, d))
    frac = float(np.mean(np.sum(mu**2, axis=1) > radius2))
    rms = float(np.sqrt(np.mean(np.sum(mu**2, axis=1))))
    bad = frac > FAR_FRACTION
    title = (
        f"{frac:.0%} of latent means lie far outside the prior"
        if bad
        else "Latent means lie within the prior"
    )
    detail = (
        f"{frac:.1%} of means have ‖μ‖ > {np.sqrt(radius2):.2f} (where N(0, I) puts only "
        f"{FAR_TAIL:.1%}); RMS ‖μ‖ = {rms:.2f} vs √D = {np.sqrt(d):.2f} for prior samples."
    )
    return Finding(
        "far",
        "warning" if bad else "ok",
        title,
        detail,
        {"fraction_outside": frac, "rms_norm": rms, "radius": np.sqrt(radius2)},
        FAR_FRACTION,
    )


def _holes(ev: Evidence) -> Finding | None:
    if ev.hole_mass is None:
        return None
    bad = ev.hole_mass > HOLE_MASS_MAX
    title = (
        f"Holes: {ev.hole_mass:.0%} of the prior's mass is where no data is encoded"
        if bad
        else "Few holes between the prior and the encoded data"
    )
    detail = (
        f"Prior mass where the aggregate posterior is below 10% of the prior: "
        f"{ev.hole_mass:.1%} (rule: > {HOLE_MASS_MAX:.0%}). Samples from there look bad."
    )
    return Finding(
        "holes",
        "warning" if bad else "ok",
        title,
        detail,
        {"hole_mass": ev.hole_mass},
        HOLE_MASS_MAX,
    )


def _classes(ev: Evidence) -> Finding | None:
    if ev.knn_accuracy is None and ev.silhouette is None:
        return None
    acc, sil = ev.knn_accuracy, ev.silhouette
    bad = (acc is not None and acc < KNN_MIN_ACCURACY) or (sil is not None and sil < SILHOUETTE_MIN)
    parts, numbers = [], {}
    if acc is not None:
        chance = f" (chance ≈ {1 / ev.n_classes:.0%})" if ev.n_classes else ""
        parts.append(f"5-NN accuracy {acc:.1%}{chance}, rule < {KNN_MIN_ACCURACY:.0%}")
        numbers["knn_accuracy"] = acc
    if sil is not None:
        parts.append(f"silhouette {sil:.2f}, rule < {SILHOUETTE_MIN:.1f}")
        numbers["silhouette"] = sil
    title = (
        "Classes are jumbled in latent space" if bad else "Classes are separated in latent space"
    )
    return Finding(
        "classes",
        "warning" if bad else "ok",
        title,
        "; ".join(parts) + ".",
        numbers,
        KNN_MIN_ACCURACY,
    )


def _rough(ev: Evidence) -> Finding | None:
    if ev.roughness is None:
        return None
    bad = ev.roughness > ROUGH_RATIO
    title = "Interpolations are rough (decodings jump)" if bad else "Interpolations are smooth"
    detail = (
        f"Median largest/mean step along linear paths between random inputs: "
        f"{ev.roughness:.2f} (rule: > {ROUGH_RATIO:.1f})."
    )
    return Finding(
        "rough", "warning" if bad else "ok", title, detail, {"roughness": ev.roughness}, ROUGH_RATIO
    )
