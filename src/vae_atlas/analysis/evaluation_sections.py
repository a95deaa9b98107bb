"""The sections of an evaluation: likelihood, latent quality, KL per dimension and code usage.

Each section takes the encoded test (and training) images, returns its fields of
:class:`~vae_atlas.analysis.evaluation_file.EvaluationResult` (``None`` where a number does not
apply) and appends to ``notes`` one line saying why for each number it leaves out. The
likelihood follows Kingma & Welling (2014) and Burda et al. (2016), total correlation Chen et
al. (2018); :func:`vae_atlas.analysis.evaluation.evaluate_model` runs the sections in turn.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from vae_atlas.analysis.codebook import code_usage
from vae_atlas.analysis.conditional import conditional_neg_elbo_per_image
from vae_atlas.analysis.encode import LatentSet
from vae_atlas.analysis.likelihood import (
    iwae_nll_per_image,
    nats_to_bits_per_dim,
    neg_elbo_per_image,
)
from vae_atlas.analysis.prior_kl import prior_kl
from vae_atlas.analysis.quality import (
    active_units,
    interpolation_roughness,
    interpolation_smoothness,
    knn_accuracy,
    linear_probe_accuracy,
    silhouette_by_class,
    total_correlation,
)
from vae_atlas.models import is_conditional
from vae_atlas.models.conditional import attribute_names_of
from vae_atlas.models.protocol import has_likelihood


class StageTimer:
    """Collects seconds per stage and reports each one through ``log``."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.seconds: dict[str, float] = {}
        self.log = log

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        self.log(f"  {name}: {self.seconds[name]:.1f} s")
        return out


def likelihood_section(
    model: nn.Module,
    x: torch.Tensor,
    lat: LatentSet,
    *,
    k: int,
    seed: int,
    timer: StageTimer,
    notes: list[str],
    conditions: np.ndarray | None = None,
) -> dict[str, Any]:
    """−ELBO and the k-sample IWAE −log p(x) of the test images ``x`` (n, C, H, W), in nats per
    image and bits per dimension; a cvae is given ``conditions``, each image's own."""
    n_dims = int(np.prod(x.shape[1:]))
    out: dict[str, Any] = dict.fromkeys(
        ("k", "neg_elbo", "iwae_nll", "iwae_nll_stderr", "neg_elbo_bits_per_dim",
         "iwae_bits_per_dim", "recon_nll"),
    )  # fmt: skip
    if not has_likelihood(model):
        notes.append("likelihood: the model has no log_px_given_z, so no ELBO / NLL")
        return out
    if is_conditional(model):
        elbo = conditional_neg_elbo_per_image(model, x, labels=conditions, seed=seed)
        out.update(
            neg_elbo=float(elbo.mean()),
            neg_elbo_bits_per_dim=float(nats_to_bits_per_dim(elbo.mean(), n_dims)),
        )
        own = "attributes" if attribute_names_of(model) else "class"
        notes.append(
            f"likelihood: the cvae's −ELBO is given each image's own {own}; its IWAE "
            "bound is not computed"
        )
        return out  # fmt: skip
    if lat.logvar is None:
        recon = neg_elbo_per_image(model, x, seed=seed)
        out["recon_nll"] = float(recon.mean())
        notes.append("likelihood: plain autoencoder or VQ-VAE (no posterior, no KL), so no "
                     "ELBO or IWAE bound; recon_nll is -log p(x | z = encoder(x))")  # fmt: skip
        return out
    elbo = timer.run("elbo", lambda: neg_elbo_per_image(model, x, n_samples=1, seed=seed))
    iwae = timer.run("iwae", lambda: iwae_nll_per_image(model, x, k=k, seed=seed))
    out.update(
        k=k,
        neg_elbo=float(elbo.mean()),
        iwae_nll=float(iwae.mean()),
        iwae_nll_stderr=float(iwae.std(ddof=1) / math.sqrt(len(iwae))) if len(iwae) > 1 else None,
        neg_elbo_bits_per_dim=float(nats_to_bits_per_dim(elbo.mean(), n_dims)),
        iwae_bits_per_dim=float(nats_to_bits_per_dim(iwae.mean(), n_dims)),
    )
    return out


def kl_section(
    model: nn.Module,
    lat: LatentSet,
    x: torch.Tensor,
    *,
    seed: int,
    timer: StageTimer,
    notes: list[str],
) -> dict[str, Any]:
    """KL per dimension and in all against the model's own prior, with a note on how it was
    measured wherever that is not N(0, I) in closed form."""
    kl = timer.run("kl per dimension", lambda: prior_kl(model, lat, x, seed=seed))
    level = getattr(model, "level_label", None)
    shown = f" of {level()}" if level is not None else ""
    if kl.stderr is not None or level is not None:
        notes.append(f"KL per dimension{shown}: {kl.describe()}")
    if not kl.additive:
        notes.append(
            "KL total: KL(q(z|x) ‖ p(z)) by Monte Carlo at the same draws; a mixture prior "
            "does not factorise, so the KLs per dimension do not sum to it"
        )
    return {"kl_per_dim": kl.per_dim.tolist(), "kl_total": None if kl.additive else kl.total}


def quality_section(
    model: nn.Module,
    lat_train: LatentSet,
    lat_test: LatentSet,
    *,
    seed: int,
    timer: StageTimer,
    notes: list[str],
) -> dict[str, Any]:
    """Active units, kNN and linear-probe accuracy, silhouette, total correlation and the
    interpolation numbers of the test codes (probes fitted on the training codes)."""
    n_active, variances = active_units(lat_test.mu)
    out: dict[str, Any] = {
        "active_units": n_active,
        "active_unit_variance": variances.tolist(),
        "kl_per_dim": None,
        "knn_accuracy": None,
        "linear_probe_accuracy": None,
        "silhouette": None,
        "total_correlation": None,
    }
    if lat_test.labels is not None and lat_train.labels is not None:
        out["knn_accuracy"] = timer.run("knn", lambda: knn_accuracy(lat_train, lat_test, k=5))
        out["linear_probe_accuracy"] = timer.run(
            "linear probe", lambda: linear_probe_accuracy(lat_train, lat_test)
        )
        if len(np.unique(lat_test.labels)) > 1:
            out["silhouette"] = silhouette_by_class(lat_test, seed=seed)
    else:
        notes.append("kNN / linear probe / silhouette: the dataset has no labels")
    if lat_test.logvar is not None:
        out["total_correlation"] = timer.run("tc", lambda: total_correlation(lat_test, seed=seed))
    else:
        notes.append("total correlation: a plain AE or a VQ-VAE has no posterior q(z|x)")
    if is_conditional(model):  # interpolated codes would need a class to decode under
        notes.append("smoothness / roughness: a cvae decodes a code only under a class")
        return {**out, "smoothness": None, "roughness": None}
    out["smoothness"] = timer.run(
        "smoothness", lambda: interpolation_smoothness(model, lat_test, seed=seed)
    )
    if out["smoothness"] is None:
        notes.append("smoothness: every sampled pair of test codes decodes to the same image")
    out["roughness"] = timer.run(
        "roughness", lambda: interpolation_roughness(model, lat_test, seed=seed)
    )
    return out


def codebook_section(
    model: nn.Module, x: torch.Tensor, *, timer: StageTimer, notes: list[str]
) -> dict[str, float | int]:
    """A VQ-VAE's code usage over the test images ``x``, and what does not apply to it."""
    usage = timer.run("codebook", lambda: code_usage(model, x))
    notes.append(
        "vq-vae: the posterior is one code per cell, not a Gaussian; the interpolation "
        "numbers walk between quantised grids through vectors that are not codes"
    )
    return {"perplexity": usage.perplexity, "codes_used": usage.used,
            "codebook_size": len(usage.counts)}  # fmt: skip
