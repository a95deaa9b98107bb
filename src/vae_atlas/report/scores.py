"""The numbers of ``vae-atlas evaluate`` (``RUN/evaluation.json``) as rows of a report's summary.

The report computes its own quick numbers (kNN, silhouette, −ELBO, KL); the expensive ones —
the importance-weighted likelihood, the linear probe, total correlation, the interpolation
measures and the disentanglement scores — come from ``evaluation.json`` when it exists and was
written for the weights the run has now (its ``weights_sha256``). Otherwise one row says what
to run, and a damaged or stale file never stops the report.
"""

from __future__ import annotations

import json
from typing import Any

from vae_atlas.analysis.evaluation import EVALUATION_FILE
from vae_atlas.run import Run

RERUN = "run: vae-atlas evaluate RUN"
# disentanglement keys of evaluation.json, in the order and with the names the table shows
DISENTANGLEMENT_ROWS = {
    "beta_vae": "β-VAE score",
    "factor_vae": "FactorVAE score",
    "mig": "MIG",
    "dci_disentanglement": "DCI disentanglement",
    "dci_completeness": "DCI completeness",
    "dci_informativeness": "DCI informativeness",
    "sap": "SAP",
}


def evaluation_rows(run: Run) -> dict[str, str]:
    """Summary rows from ``RUN/evaluation.json``, or one row saying why there are none."""
    path = run.path / EVALUATION_FILE
    if not path.exists():
        return {"evaluate (likelihood, quality scores)": f"not run yet — {RERUN}"}
    try:
        ev = json.loads(path.read_text())
        if not isinstance(ev, dict) or ev.get("kind") != "vae-atlas.evaluation":
            raise ValueError("not a vae-atlas evaluation")
        recorded = ev.get("weights_sha256")
        current = recorded == run.weights_sha256()
        rows = _rows(ev) if current else {}
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        return {EVALUATION_FILE: f"unreadable ({exc}) — {RERUN}"}
    if not recorded:
        return {EVALUATION_FILE: f"written by an older vae-atlas (no weights recorded) — {RERUN}"}
    if not current:
        stale = "written for other weights (resumed or retrained since)"
        return {EVALUATION_FILE: f"{stale} — {RERUN}"}
    return rows


def _rows(ev: dict[str, Any]) -> dict[str, str]:
    images = f"{ev['n_test']:,} test images"
    rows: dict[str, str] = {}
    if ev.get("iwae_nll") is not None:
        err = ev.get("iwae_nll_stderr")
        rows[f"−log p(x), IWAE k={ev['k']:,}, {images} (nats)"] = _num(ev["iwae_nll"]) + (
            "" if err is None else f" ± {err:.2f}"
        )
        rows["bits/dim (IWAE)"] = _num(ev.get("iwae_bits_per_dim"), ".4f")
    elif ev.get("recon_nll") is not None:
        rows[f"reconstruction NLL, {images} (nats)"] = _num(ev["recon_nll"])
    rows["linear-probe accuracy"] = _num(ev.get("linear_probe_accuracy"), ".3f")
    rows["active units (var > 0.01)"] = f"{ev['active_units']} / {ev['latent_dim']}"
    rows["total correlation (nats)"] = _num(ev.get("total_correlation"))
    rows["interpolation path / chord"] = _num(ev.get("smoothness"))
    rows["interpolation largest / mean step"] = _num(ev.get("roughness"))
    for key, name in DISENTANGLEMENT_ROWS.items():
        value = (ev.get("disentanglement") or {}).get(key)
        if value is not None:
            rows[name] = _num(value, ".3f")
    return rows


def _num(value: Any, spec: str = ".2f") -> str:
    return "—" if value is None else format(float(value), spec)
