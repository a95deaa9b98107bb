"""A run's card for notebooks: its config, status, final numbers and a small latent map, as one
HTML fragment (what ``Run._repr_html_`` shows) and the map alone as PNG (``Run._repr_png_``).

The map is drawn from the last probe-set snapshot training wrote, so showing a run encodes
nothing and never needs the dataset.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from vae_atlas.config import RunConfig
from vae_atlas.palette import class_colors

# the final numbers a card shows, in this order, when the last metrics row has them
CARD_METRICS = (
    ("test_neg_elbo", "test −ELBO (nats)"),
    ("test_recon", "test reconstruction NLL (nats)"),
    ("test_kl", "test KL (nats)"),
    ("val_neg_elbo", "validation −ELBO (nats)"),
    ("val_recon", "validation reconstruction NLL (nats)"),
    ("val_kl", "validation KL (nats)"),
    ("train_loss", "train loss"),
)
MAP_INCHES = 3.0  # the card's latent map: small beside the tables


def final_numbers(metrics: Sequence[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """(key, label, value) of :data:`CARD_METRICS` in the last metrics row, finite ones only."""
    if not metrics:
        return []
    last = metrics[-1]
    out = []
    for key, label in CARD_METRICS:
        value = last.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            out.append((key, label, float(value)))
    return out


def map_coords(mu: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """2-D coordinates of codes (N, D): the codes themselves for D = 2, (z1, 0) for D = 1, else
    their first two principal components; with the axes' names."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.shape[1] == 1:
        return np.column_stack([mu[:, 0], np.zeros(len(mu))]), ("z1", "")
    if mu.shape[1] == 2:
        return mu, ("z1", "z2")
    centred = mu - mu.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T, ("PC 1", "PC 2")  # (N, 2)


def map_png(mu: np.ndarray, labels: np.ndarray | None, title: str) -> bytes:
    """A small scatter of codes (N, D) coloured by class, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xy, (xlabel, ylabel) = map_coords(mu)
    fig = Figure(figsize=(MAP_INCHES, MAP_INCHES), dpi=80, layout="constrained")
    ax = fig.add_subplot()
    if labels is None:
        colours: Any = "#4c72b0"
    else:
        labels = np.asarray(labels, dtype=np.int64)
        colours = class_colors(int(labels.max()) + 1)[labels]
    ax.scatter(xy[:, 0], xy[:, 1], s=6, c=colours, linewidths=0, alpha=0.8)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


def _table(rows: Sequence[tuple[str, str]], css_class: str) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
        f"<td style='text-align:right'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table class='{css_class}'>{cells}</table>"


def config_rows(config: RunConfig) -> list[tuple[str, str]]:
    m, t = config.model, config.train
    return [
        ("dataset", html.escape(config.data.name)),
        ("model", html.escape(f"{m.family} {'-'.join(map(str, m.hidden or ()))}")),
        ("objective", html.escape(m.objective) + (f" (β = {m.beta:g})" if m.beta != 1 else "")),
        ("likelihood", html.escape(m.likelihood)),
        ("latent_dim", str(m.latent_dim)),
        ("epochs", str(t.epochs)),
        ("batch size", str(t.batch_size)),
        ("seed", str(t.seed)),
    ]


def card_html(
    name: str,
    config: RunConfig,
    state: dict[str, Any],
    metrics: Sequence[dict[str, Any]],
    snapshot: tuple[int, np.ndarray, np.ndarray | None] | None,
) -> str:
    """The card: ``snapshot`` is (epoch, probe means (P, D), probe labels or None)."""
    status = html.escape(str(state.get("status", "unknown")))
    done = state.get("epochs_completed", metrics[-1]["epoch"] if metrics else 0)
    message = state.get("message") or ""
    head = (
        f"<div><b>{html.escape(name)}</b> · {html.escape(config.model.objective.upper())} · "
        f"<span class='va-status'>{status}</span> · epoch {done} of {config.train.epochs}"
        + (f" · {html.escape(message)}" if message else "")
        + "</div>"
    )
    numbers = [
        (label, f"<span data-key='{key}'>{value:.4f}</span>")
        for key, label, value in final_numbers(metrics)
    ]
    parts = [_table(config_rows(config), "va-config")]
    parts.append(_table(numbers, "va-numbers") if numbers else "<p>no epoch finished yet</p>")
    if snapshot is not None:
        epoch, mu, labels = snapshot
        png = map_png(mu, labels, f"probe set after epoch {epoch}")
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        parts.append(f"<img class='va-map' src='{uri}' alt='latent map of the probe set'>")
    cells = "".join(f"<div style='margin-right:1.5em'>{p}</div>" for p in parts)
    return (
        f"<div class='vae-atlas-run'>{head}"
        f"<div style='display:flex;align-items:flex-start;flex-wrap:wrap'>{cells}</div></div>"
    )
