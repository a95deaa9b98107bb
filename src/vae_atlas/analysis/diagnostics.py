"""Automatic diagnostics: a short list of findings about a latent space, each with the numbers
behind it. Every rule and its threshold is named here.

* **Posterior collapse** (Bowman et al. 2016; Lucas et al. 2019): dimensions whose mean KL to the
  prior is below ``ACTIVE_KL_THRESHOLD`` carry no information about the input
  (:func:`active_dimensions` is the one definition of an active dimension).
* **Decoder ignores z** (Chen et al. 2017): the decodings of the test inputs' own codes hardly
  differ — their per-pixel variance is below ``DECODER_VARIANCE_RATIO`` of the data's — although
  the codes carry information (not every dimension collapsed). Measured at the codes, not at
  prior samples: a decoder whose codes live far outside the prior decodes every prior sample to
  the same blur while using z fully; that is the "far" and "holes" rules' finding.
* **Means far from the prior**: more than ``FAR_FRACTION`` of the posterior means lie outside the
  sphere holding 1 − ``FAR_TAIL`` of the prior's mass (χ² quantile); prior samples then land in
  regions the decoder never saw (typical of plain autoencoders).
* **Holes**: more than ``HOLE_MASS_MAX`` of the prior's mass lies where the aggregate posterior is
  below ``aggregate.HOLE_RATIO`` of the prior (:func:`~vae_atlas.analysis.aggregate.hole_fraction`,
  in all D dimensions).
* **Jumbled classes**: kNN accuracy on the latent means below ``KNN_MIN_ACCURACY`` or class
  silhouette below ``SILHOUETTE_MIN``.
* **Rough interpolations**: the median over random pairs of the largest decoded step over the mean
  step (:func:`~vae_atlas.analysis.quality.interpolation_roughness`) exceeds ``ROUGH_RATIO``.

The rules read one :class:`~vae_atlas.analysis.evidence.Evidence`, the numbers
:func:`~vae_atlas.analysis.evidence.measure_evidence` takes from a model and its codes. Every
warning and note carries ``advice``: what to change to fix it. Training health (still
improving, overfitting, KL collapse in warm-up) is read from the metrics by
:mod:`vae_atlas.analysis.training_health`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2

from vae_atlas.analysis.aggregate import HOLE_RATIO
from vae_atlas.analysis.evidence import Evidence

ACTIVE_KL_THRESHOLD = 0.01
"""Nats. Below it a dimension's posterior is (nearly) the prior whatever the input, so the
dimension carries no information and the decoder learns to ignore it. The value mirrors the 0.01
cut Burda et al. (2016) put on the variance of the means for their "active units"."""

DECODER_VARIANCE_RATIO = 0.05
FAR_TAIL = 0.001
FAR_FRACTION = 0.05
HOLE_MASS_MAX = 0.015
KNN_MIN_ACCURACY = 0.5
SILHOUETTE_MIN = 0.0
ROUGH_RATIO = 1.8

SEVERITIES = ("ok", "note", "warning")


@dataclass(frozen=True)
class Finding:
    """One diagnostic: ``rule`` id, ``severity`` (ok / note / warning), a one-line ``title``, a
    ``detail`` sentence, the ``numbers`` (name → value) and ``threshold`` behind it, and
    ``advice``: what to try (empty for "ok")."""

    rule: str
    severity: str
    title: str
    detail: str
    numbers: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None
    advice: str = ""


def active_dimensions(kl_per_dim: np.ndarray | Sequence[float]) -> np.ndarray:
    """Which dimensions are active, bool (D,): mean KL per dimension ``kl_per_dim`` (D,), nats,
    at least ``ACTIVE_KL_THRESHOLD``."""
    return np.asarray(kl_per_dim, dtype=np.float64) >= ACTIVE_KL_THRESHOLD


def diagnose(evidence: Evidence) -> list[Finding]:
    """Apply every rule to ``evidence``; rules whose numbers are missing are skipped."""
    rules = (_collapse, _decoder, _far, _holes, _classes, _rough)
    return [f for rule in rules if (f := rule(evidence)) is not None]


def _all_collapsed(ev: Evidence) -> bool:
    return ev.kl_per_dim is not None and not active_dimensions(ev.kl_per_dim).any()


def _collapse(ev: Evidence) -> Finding:
    if ev.kl_per_dim is None:
        return Finding(
            "collapse",
            "note",
            "Plain autoencoder: no posterior, so no KL or collapse to measure",
            "Each input maps to a point; nothing ties the codes to the N(0, I) prior.",
            advice="To sample from the prior, train a VAE (--objective vae).",
        )
    kl = np.asarray(ev.kl_per_dim)
    n_low, d = int(np.sum(~active_dimensions(kl))), kl.size
    numbers = {"collapsed_dims": n_low, "latent_dim": d, "total_kl": float(kl.sum())}
    advice = ""
    if n_low == d:
        sev = "warning"
        title = f"Posterior collapse: all {d} dimensions carry < {ACTIVE_KL_THRESHOLD} nats"
        advice = (
            "The decoder models the data without z: use a KL warm-up (--warmup-epochs 10), a "
            "smaller β, or KL capacity annealing (--capacity-max 25); a weaker decoder (MLP "
            "instead of conv) leans more on z."
        )
    elif n_low:
        sev, title = (
            "note",
            f"{n_low} of {d} dimensions are inactive (< {ACTIVE_KL_THRESHOLD} nats)",
        )
        advice = (
            "The data needs fewer dimensions at this β: --latent-dim "
            f"{d - n_low} gives the same model; a smaller β switches more on."
        )
    else:
        sev, title = "ok", f"All {d} dimensions are in use (each ≥ {ACTIVE_KL_THRESHOLD} nats)"
    detail = f"KL per dimension ranges {kl.min():.3g}–{kl.max():.3g} nats (total {kl.sum():.3g})."
    return Finding("collapse", sev, title, detail, numbers, ACTIVE_KL_THRESHOLD, advice)


def _decoder(ev: Evidence) -> Finding | None:
    r = ev.decoder_variance_ratio
    if r is None or _all_collapsed(ev):  # the collapse finding already says z is unused
        return None
    bad = r < DECODER_VARIANCE_RATIO
    title = "Decoder ignores z" if bad else "Decoder uses z"
    detail = (
        f"The test inputs' own codes decode to images that vary {r:.1%} as much per pixel as "
        f"the data (rule: < {DECODER_VARIANCE_RATIO:.0%} means the decoder ignores the code)."
    )
    advice = (
        "Every code decodes to about the same image: train longer, use a KL warm-up "
        "(--warmup-epochs), or a conv model (--family conv) with a smaller --image-size for "
        "large or colour images."
        if bad
        else ""
    )
    return Finding(
        "decoder",
        "warning" if bad else "ok",
        title,
        detail,
        {"variance_ratio": r},
        DECODER_VARIANCE_RATIO,
        advice,
    )


def _far(ev: Evidence) -> Finding | None:
    if not ev.prior_standard:  # distances from N(0, I) say nothing about another prior
        return None
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
    advice = (
        (
            "Prior samples will not look like the data: train a VAE (--objective vae) so the "
            "KL term pulls the codes in"
            if ev.kl_per_dim is None
            else "Prior samples will not look like the data: a larger β or a KL warm-up "
            "(--warmup-epochs) pulls the codes in"
        )
        + "; to generate now, decode encoded codes, not prior samples."
        if bad
        else ""
    )
    numbers = {"fraction_outside": frac, "rms_norm": rms, "radius": np.sqrt(radius2)}
    return Finding("far", "warning" if bad else "ok", title, detail, numbers, FAR_FRACTION, advice)


def _holes(ev: Evidence) -> Finding | None:
    h = ev.hole_fraction
    if h is None:
        return None
    bad = h > HOLE_MASS_MAX
    title = (
        f"Holes: {h:.0%} of the prior's mass is where no data is encoded"
        if bad
        else "Few holes between the prior and the encoded data"
    )
    detail = (
        f"Prior mass where the aggregate posterior is below {HOLE_RATIO:g}× the prior: {h:.1%} "
        f"(rule: > {HOLE_MASS_MAX:.0%}). Samples from there look like no input."
    )
    advice = (
        (
            "Train a VAE (--objective vae): its KL term spreads the codes over the prior"
            if ev.kl_per_dim is None
            else "A larger β or a KL warm-up spreads the codes over the prior"
        )
        + "; fewer latent dimensions or more data leave fewer gaps."
        if bad
        else ""
    )
    return Finding(
        "holes",
        "warning" if bad else "ok",
        title,
        detail,
        {"hole_fraction": h},
        HOLE_MASS_MAX,
        advice,
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
    advice = (
        "Train longer, add latent dimensions (--latent-dim), lower β, or use a conv model "
        "(--family conv) for images."
        if bad
        else ""
    )
    sev = "warning" if bad else "ok"
    return Finding("classes", sev, title, "; ".join(parts) + ".", numbers, KNN_MIN_ACCURACY, advice)


def _rough(ev: Evidence) -> Finding | None:
    if ev.roughness is None:
        return None
    bad = ev.roughness > ROUGH_RATIO
    title = "Interpolations are rough (decodings jump)" if bad else "Interpolations are smooth"
    detail = (
        f"Median largest/mean step along linear paths between random inputs: "
        f"{ev.roughness:.2f} (rule: > {ROUGH_RATIO:.1f})."
    )
    advice = (
        "Paths cross gaps no code maps to: a VAE objective (or a larger β) fills them."
        if bad
        else ""
    )
    numbers = {"roughness": ev.roughness}
    return Finding("rough", "warning" if bad else "ok", title, detail, numbers, ROUGH_RATIO, advice)
