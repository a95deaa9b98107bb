"""Per-point anomaly scores for colouring the map: each shown image's −ELBO in nats (a plain
autoencoder's reconstruction NLL), the score :mod:`vae_atlas.analysis.anomaly` ranks by
(Kingma & Welling 2014; An & Cho 2015). Computed on first request and kept for the app's life.
"""

from __future__ import annotations

import threading

import numpy as np
from fastapi import APIRouter, HTTPException, Request

from vae_atlas.analysis import neg_elbo_per_image
from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.api import RunDep
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.models.protocol import has_likelihood
from vae_atlas.viz.style import score_hex_ramp

router = APIRouter(prefix="/api")
RAMP_STEPS = 32
_lock = threading.Lock()


def anomaly_scores(run: ExplorerRun) -> np.ndarray:
    """−ELBO (N,) in nats of the run's shown images (one posterior sample, seed 0)."""
    return neg_elbo_per_image(run.model, run.images, n_samples=1, seed=0)


@router.get("/runs/{run_id}/anomaly", response_model=s.AnomalyScores)
def get_anomaly(request: Request, run: RunDep) -> s.AnomalyScores:
    if not has_likelihood(run.model):
        raise HTTPException(404, "this model has no likelihood (log_px_given_z): no anomaly score")
    cache: dict[str, np.ndarray] = request.app.state.anomaly_scores
    with _lock:
        if run.id not in cache:
            cache[run.id] = anomaly_scores(run)
        scores = cache[run.id]
    lo, hi = np.percentile(scores, [1.0, 99.0])
    name = "−ELBO (nats)" if run.stochastic else "reconstruction NLL (nats)"
    return s.AnomalyScores(
        name=name,
        scores=np.round(scores, 3).tolist(),
        lo=float(lo),
        hi=float(hi),
        ramp=score_hex_ramp(RAMP_STEPS),
    )
