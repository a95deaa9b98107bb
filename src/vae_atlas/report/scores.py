"""The numbers of ``vae-atlas evaluate`` (``RUN/evaluation.json``) as rows of a report's summary.

The report computes its own quick numbers (kNN, silhouette, −ELBO, KL); the expensive ones —
the importance-weighted likelihood, the linear probe, total correlation, the interpolation
measures and the disentanglement scores — come from ``evaluation.json`` when it exists and was
written for the weights the run has now. Otherwise one row says what to run, and a damaged or
stale file never stops the report.
"""

from __future__ import annotations

from vae_atlas.analysis.evaluation_file import (
    EVALUATION_FILE,
    EvaluationUnavailable,
    evaluation_table,
    read_evaluation,
)
from vae_atlas.run import Run

RERUN = "run: vae-atlas evaluate RUN"
# rows the report's own summary already shows, measured on the report's test images
OWN_ROWS = ("run", "neg_elbo", "knn_accuracy", "silhouette", "kl_total")


def evaluation_rows(run: Run) -> dict[str, str]:
    """Summary rows from ``RUN/evaluation.json``, or one row saying why there are none."""
    found = read_evaluation(run)
    if isinstance(found, EvaluationUnavailable):
        missing = found.state == "missing"
        name = "evaluate (likelihood, quality scores)" if missing else EVALUATION_FILE
        return {name: f"{found.reason} — {RERUN}"}
    return evaluation_table(found, omit=OWN_ROWS)
