"""Training health from a run's per-epoch metrics (``metrics.jsonl``): still improving at the
end, overfitting, and a KL that collapsed while its weight was warming up (Bowman et al. 2016).

Held-out numbers come from the validation split (``val_*`` keys) when the run has one, else from
the test split (``test_*``); a plain autoencoder has no ELBO, so its reconstruction term is
used. Every threshold is a named constant here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vae_atlas.analysis.diagnostics import ACTIVE_KL_THRESHOLD, Finding

IMPROVING_FRACTION = 0.005
"""Still improving: the held-out loss fell by more than this fraction per epoch at the end (over
the last epoch, or between the last two ``SMOOTHING_EPOCHS`` windows of a long run)."""
OVERFIT_RISE = 0.01
"""Overfitting: the held-out loss ended this fraction above its best while the training loss
kept falling."""
SMOOTHING_EPOCHS = 5
"""The overfitting rule compares trailing means over this many epochs (a fifth of the epochs on
shorter runs), because each epoch's held-out loss is a one-sample ELBO estimate that wobbles by
about a percent around its trend: the lowest single epoch is a lucky draw, not the best model."""
KL_PEAK_FACTOR = 10.0
"""KL collapse during warm-up: the held-out KL peaked at least this many times the collapse
level (``ACTIVE_KL_THRESHOLD`` per dimension) and ended below it."""

Metrics = Sequence[Mapping[str, object]]


def held_out_key(metrics: Metrics) -> tuple[str, str] | None:
    """(held-out key, matching training key) present in ``metrics``, validation first."""
    last = metrics[-1] if metrics else {}
    for split in ("val", "test"):
        for term in ("neg_elbo", "recon"):
            if last.get(f"{split}_{term}") is not None:
                return f"{split}_{term}", f"train_{term}"
    return None


def diagnose_training(metrics: Metrics) -> list[Finding]:
    """Apply the training-health rules to per-epoch ``metrics`` (epoch 0 = untrained)."""
    trained = [m for m in metrics if int(m.get("epoch", 0)) > 0]
    keys = held_out_key(trained)
    if len(trained) < 2 or keys is None:
        return []
    rules = (_improving(trained, *keys), _overfitting(trained, *keys), _warmup_kl(trained))
    return [f for f in rules if f is not None]


def _series(metrics: Metrics, key: str) -> np.ndarray:
    return np.array([np.nan if m.get(key) is None else float(m[key]) for m in metrics])


def _split_name(key: str) -> str:
    return "validation" if key.startswith("val_") else "test"


def _smoothing_window(metrics: Metrics) -> int:
    return max(1, min(SMOOTHING_EPOCHS, len(metrics) // 5))


def _improving(metrics: Metrics, held: str, _train: str) -> Finding:
    window = _smoothing_window(metrics)
    loss = _trailing_mean(_series(metrics, held), window)
    before, last = loss[-1 - window], loss[-1]
    drop = float((before - last) / abs(before) / window)  # per epoch
    bad = drop > IMPROVING_FRACTION
    title = (
        "Still improving at the end of training" if bad else "Training had levelled off at the end"
    )
    detail = (
        f"Held-out ({_split_name(held)}) {held.split('_', 1)[1]} "
        f"{'fell' if drop >= 0 else 'rose'} {abs(drop):.2%} "
        f"{'in the last epoch' if window == 1 else f'per epoch over the last {window} epochs'}, "
        f"to {last:.2f} (rule: a fall > {IMPROVING_FRACTION:.1%} per epoch)."
    )
    advice = (
        "Train longer: `vae-atlas train --resume --out RUN --epochs N` continues this run."
        if bad
        else ""
    )
    numbers = {"last_epoch_drop": drop, "held_out": float(last)}
    return Finding(
        "improving", "note" if bad else "ok", title, detail, numbers, IMPROVING_FRACTION, advice
    )


def _trailing_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean of each ``window`` consecutive epochs, aligned with the last epoch of the window."""
    means = np.convolve(x, np.ones(window) / window, mode="valid")  # (n - window + 1,)
    return np.concatenate([np.full(window - 1, np.nan), means])


def _overfitting(metrics: Metrics, held: str, train: str) -> Finding | None:
    window = _smoothing_window(metrics)
    loss = _trailing_mean(_series(metrics, held), window)
    train_loss = _trailing_mean(_series(metrics, train), window)
    if np.isnan(train_loss).all() or np.isnan(loss).all():
        return None
    best = int(np.nanargmin(loss))
    rise = float((loss[-1] - loss[best]) / abs(loss[best]))
    gap = float(loss[-1] - train_loss[-1])
    bad = rise > OVERFIT_RISE and train_loss[-1] < train_loss[best]
    title = "Overfitting: held-out loss rising" if bad else "No sign of overfitting"
    detail = (
        f"Held-out ({_split_name(held)}) loss is {rise:.1%} above its best (epoch "
        f"{metrics[best]['epoch']}) while training went on; held-out minus training at the end "
        f"{gap:.2f} nats (rule: rise > {OVERFIT_RISE:.0%} with training still falling"
        f"{f'; means over {window} epochs' if window > 1 else ''})."
    )
    advice = (
        "More data, fewer epochs (stop near the best epoch), a smaller model (--hidden), "
        "or a larger β."
        if bad
        else ""
    )
    numbers = {"rise_from_best": rise, "gap": gap, "best_epoch": float(metrics[best]["epoch"])}
    return Finding(
        "overfitting", "warning" if bad else "ok", title, detail, numbers, OVERFIT_RISE, advice
    )


def _warmup_kl(metrics: Metrics) -> Finding | None:
    """Only for runs with a KL warm-up (some epoch's ``kl_weight`` < 1) and a KL to read."""
    warm = [float(m.get("kl_weight", 1.0) or 0.0) < 1.0 for m in metrics]
    kl_key = next((k for k in ("val_kl", "test_kl") if metrics[-1].get(k) is not None), None)
    per_dim = metrics[-1].get("test_kl_per_dim")
    if not any(warm) or kl_key is None or not isinstance(per_dim, list):
        return None
    kl = _series(metrics, kl_key)
    floor = ACTIVE_KL_THRESHOLD * len(per_dim)
    peak = float(np.nanmax(kl))
    bad = peak >= KL_PEAK_FACTOR * floor and kl[-1] < floor
    title = "KL collapsed as its weight warmed up" if bad else "KL survived the warm-up"
    detail = (
        f"Held-out KL peaked at {peak:.2f} nats and ended at {kl[-1]:.3f} (collapse level "
        f"{floor:.2f} = {ACTIVE_KL_THRESHOLD} × {len(per_dim)} dimensions)."
    )
    advice = (
        "Lengthen the warm-up (--warmup-epochs), lower β, or anneal a KL capacity "
        "(--capacity-max 25) so the code stays informative."
        if bad
        else ""
    )
    return Finding(
        "warmup_kl", "warning" if bad else "ok", title, detail, {"peak_kl": peak}, floor, advice
    )
