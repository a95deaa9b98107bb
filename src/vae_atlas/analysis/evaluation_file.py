"""``RUN/evaluation.json``: the typed result of ``vae-atlas evaluate``, how it is written and read
back, and the one table that shows it (the CLI prints it; a report puts it in its summary).

A file counts only when it was written for the weights the run has now: every result records
the SHA-256 of ``model.safetensors``, and :func:`read_evaluation` compares it, so numbers of a
model that was resumed or retrained since are never shown as if they were current.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from vae_atlas.analysis.diagnostics import ACTIVE_KL_THRESHOLD, active_dimensions
from vae_atlas.analysis.quality import ACTIVE_UNIT_THRESHOLD
from vae_atlas.checkpoint import atomic_write_json, read_json
from vae_atlas.run import Run

EVALUATION_FILE = "evaluation.json"
KIND = "vae-atlas.evaluation"
SCHEMA_VERSION = 1
# disentanglement keys, in the order and with the names the table shows
DISENTANGLEMENT_NAMES = {
    "beta_vae": "β-VAE score",
    "factor_vae": "FactorVAE score",
    "mig": "MIG",
    "dci_disentanglement": "DCI disentanglement",
    "dci_completeness": "DCI completeness",
    "dci_informativeness": "DCI informativeness",
    "sap": "SAP",
}


@dataclass(frozen=True, kw_only=True)
class EvaluationResult:
    """Every number of one evaluation; ``None`` where a number does not apply (see ``notes``).

    Likelihoods are means over the ``n_test`` evaluated test images, nats per image; bits per
    dimension divide by ``n_dims`` · ln 2. ``kl_per_dim`` and ``active_unit_variance`` have one
    entry per latent dimension.
    """

    run: str
    dataset: str
    objective: str
    latent_dim: int
    n_test: int
    n_dims: int
    binarized: bool
    k: int | None
    neg_elbo: float | None
    iwae_nll: float | None
    iwae_nll_stderr: float | None
    neg_elbo_bits_per_dim: float | None
    iwae_bits_per_dim: float | None
    recon_nll: float | None
    knn_accuracy: float | None
    linear_probe_accuracy: float | None
    silhouette: float | None
    active_units: int
    active_unit_variance: list[float]
    kl_per_dim: list[float] | None
    total_correlation: float | None
    smoothness: float | None
    roughness: float | None
    disentanglement: dict[str, float | int] | None
    # per attribute of the dataset (CelebA, a folder's table): held-out linear-probe numbers,
    # see vae_atlas.analysis.attribute_scores.AttributeScores.as_dict
    attributes: dict[str, dict[str, Any]] | None = None
    # a VQ-VAE's codebook over the test codes: perplexity, codes_used, codebook_size
    codebook: dict[str, float | int] | None = None
    # KL(q(z|x) ‖ p(z)) when the KLs per dimension do not sum to it (a mixture prior); else None
    kl_total: float | None = None
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    weights_sha256: str = ""  # of the run's model.safetensors when evaluated ("" for a bare model)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "schema_version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: object) -> EvaluationResult:
        """The result saved by :meth:`to_dict`; ``ValueError`` naming the first wrong field."""
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ValueError(f"not a vae-atlas evaluation (kind is not {KIND!r})")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION}"
            )
        hints = typing.get_type_hints(cls)
        values = {}
        for f in fields(cls):
            if f.name not in data:
                if f.default is MISSING and f.default_factory is MISSING:
                    raise ValueError(f"field {f.name!r} is missing")
                continue
            if not _fits(data[f.name], hints[f.name]):
                raise ValueError(f"field {f.name!r} is not {_type_name(hints[f.name])}")
            values[f.name] = data[f.name]
        return cls(**values)


def _fits(value: object, hint: object) -> bool:
    """Whether a JSON ``value`` has the type ``hint`` (the few types the schema uses)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and _fits(v, args[1]) for k, v in value.items()
        )
    if hint is float:  # JSON writes 1.0 as 1 when a tool rewrites it; bool is not a number
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)  # type: ignore[arg-type]


def _type_name(hint: object) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


@dataclass(frozen=True)
class EvaluationUnavailable:
    """Why a run has no current evaluation: ``state`` is ``missing`` (never evaluated),
    ``stale`` (evaluated for other weights) or ``damaged`` (unreadable); ``reason`` says more."""

    state: Literal["missing", "stale", "damaged"]
    reason: str


def write_evaluation(result: EvaluationResult, run_dir: str | Path) -> Path:
    """Write ``result`` atomically to ``run_dir/evaluation.json`` and return that path."""
    path = Path(run_dir) / EVALUATION_FILE
    atomic_write_json(path, result.to_dict())
    return path


def read_evaluation(run: Run) -> EvaluationResult | EvaluationUnavailable:
    """The run's evaluation if it was written for the run's current weights, else why not."""
    path = run.path / EVALUATION_FILE
    if not path.exists():
        return EvaluationUnavailable("missing", "not run yet")
    try:
        data = read_json(path)  # nesting, digit and size limits: a RunFileError (ValueError)
        recorded = data.get("weights_sha256") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("kind") == KIND and not recorded:
            return EvaluationUnavailable(
                "stale", "written by an older vae-atlas (no weights recorded)"
            )
        result = EvaluationResult.from_dict(data)
    except (OSError, ValueError) as exc:  # a UnicodeDecodeError is a ValueError
        return EvaluationUnavailable("damaged", f"unreadable ({exc})")
    if result.weights_sha256 != run.weights_sha256():
        return EvaluationUnavailable(
            "stale", "written for other weights (resumed or retrained since)"
        )
    return result


def evaluation_table(r: EvaluationResult, *, omit: Collection[str] = ()) -> dict[str, str]:
    """The numbers of ``r`` as label → text, leaving out those that do not apply and the rows
    whose keys are in ``omit`` (``run``, ``n_test``, ``neg_elbo``, ``iwae_nll``,
    ``iwae_bits_per_dim``, ``recon_nll``, ``knn_accuracy``, ``linear_probe_accuracy``,
    ``silhouette``, ``active``, ``kl_total``, ``total_correlation``, ``smoothness``,
    ``roughness``, ``disentanglement``, ``codebook``, ``attributes``)."""
    iwae = _num(r.iwae_nll)
    if iwae is not None and r.iwae_nll_stderr is not None:
        iwae += f" ± {r.iwae_nll_stderr:.2f}"
    rows = [
        ("run", "run", f"{r.run} ({r.dataset}, {r.objective}, {r.latent_dim}-D)"),
        ("n_test", "evaluated test images", f"{r.n_test:,}{' (binarised)' if r.binarized else ''}"),
        ("neg_elbo", "−ELBO (nats)", _num(r.neg_elbo)),
        ("iwae_nll", f"−log p(x), IWAE k={r.k or 0:,} (nats)", iwae),
        ("iwae_bits_per_dim", "bits/dim (IWAE)", _num(r.iwae_bits_per_dim, ".4f")),
        ("recon_nll", "reconstruction NLL (nats)", _num(r.recon_nll)),
        ("knn_accuracy", "kNN accuracy (k=5)", _num(r.knn_accuracy, ".3f")),
        ("linear_probe_accuracy", "linear-probe accuracy", _num(r.linear_probe_accuracy, ".3f")),
        ("silhouette", "silhouette", _num(r.silhouette, ".3f")),
        _active_row(r),
        ("kl_total", "KL total (nats)", _kl_total(r)),
        ("total_correlation", "total correlation (nats)", _num(r.total_correlation)),
        ("smoothness", "interpolation path / chord", _num(r.smoothness)),
        ("roughness", "interpolation largest / mean step", _num(r.roughness)),
    ]  # fmt: skip
    for key, name in DISENTANGLEMENT_NAMES.items():
        rows.append(("disentanglement", name, _num((r.disentanglement or {}).get(key), ".3f")))
    if r.codebook is not None:
        size = r.codebook["codebook_size"]
        rows.append(
            ("codebook", "codebook perplexity", f"{r.codebook['perplexity']:.1f} of {size}")
        )
        rows.append(("codebook", "codes used", f"{r.codebook['codes_used']} of {size}"))
    for name, entry in (r.attributes or {}).items():
        rows.append(("attributes", f"attribute probe: {name}", _attribute_text(entry)))
    return {label: text for key, label, text in rows if text is not None and key not in omit}


def _attribute_text(entry: dict[str, Any]) -> str | None:
    """ "accuracy 0.93 (majority 0.51), AUC 0.98", or "R² 0.71" for a continuous attribute."""
    if entry.get("probe_r2") is not None:
        return f"R² {entry['probe_r2']:.3f}"
    if entry.get("probe_accuracy") is None:
        return "n/a (one value only in the fit or test codes)"
    return (
        f"accuracy {entry['probe_accuracy']:.3f} (majority {entry['majority_accuracy']:.3f}), "
        f"AUC {entry['probe_auc']:.3f}"
    )


def _active_row(r: EvaluationResult) -> tuple[str, str, str]:
    """Active dimensions by KL (as everywhere else); a plain AE has no KL, so Burda et al.'s
    variance of the means counts instead."""
    if r.kl_per_dim is not None:
        n = int(active_dimensions(r.kl_per_dim).sum())
        label = f"active dimensions (KL ≥ {ACTIVE_KL_THRESHOLD} nats)"
        return "active", label, f"{n} / {r.latent_dim}"
    label = f"active units (variance of the means > {ACTIVE_UNIT_THRESHOLD})"
    return "active", label, f"{r.active_units} / {r.latent_dim}"


def _kl_total(r: EvaluationResult) -> str | None:
    if r.kl_total is not None:
        return _num(r.kl_total)
    return None if r.kl_per_dim is None else _num(sum(r.kl_per_dim))


def _num(value: float | None, spec: str = ".2f") -> str | None:
    # "z": a small negative estimate (the total correlation's) that rounds to zero prints 0.00
    return None if value is None else format(float(value), "z" + spec)
