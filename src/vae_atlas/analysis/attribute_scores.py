"""Which latent dimensions carry each attribute, how well a linear probe reads it, and the
attribute directions and analogies (White 2016, "Sampling Generative Networks"; Larsen et al.
2016) that the report and the explorer show.

Per dimension: |Pearson correlation| between the dimension's means and the attribute (for a
binary attribute this is the point-biserial correlation). Per attribute: a linear probe
(logistic regression for binary attributes, ridge regression for continuous ones) fitted on
other codes than it is scored on — given training codes, or else one seeded half of the codes
— and scored on held-out codes: accuracy and ROC AUC (binary, beside the
accuracy of always guessing the majority value) or R² (continuous).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vae_atlas.analysis.attributes import AttributeDirection, direction_from_mask
from vae_atlas.data.attributes import is_binary

# With many attributes (CelebA has 40), the figures show a handful, these first when present.
PREFERRED = ("Smiling", "Eyeglasses", "Male", "Blond_Hair", "Wearing_Hat", "Bangs")
MAX_DEFAULT = 6


@dataclass(frozen=True)
class AttributeScores:
    """Per attribute ``names`` (A,): ``binary`` (A,), ``dim_corr`` (A, D) |correlation| of each
    dimension, and the held-out probe's ``accuracy``, ``auc`` and ``majority`` (binary; NaN
    for continuous) and ``r2`` (continuous; NaN for binary); ``n_fit`` / ``n_held_out`` codes."""

    names: tuple[str, ...]
    binary: tuple[bool, ...]
    dim_corr: np.ndarray
    accuracy: np.ndarray
    auc: np.ndarray
    majority: np.ndarray
    r2: np.ndarray
    n_fit: int
    n_held_out: int

    def as_dict(self) -> dict[str, dict[str, float | int | str | None]]:
        """One JSON-ready entry per attribute (NaN written as None)."""

        def num(x: float) -> float | None:
            return None if not np.isfinite(x) else round(float(x), 4)

        out: dict[str, dict[str, float | int | str | None]] = {}
        for a, name in enumerate(self.names):
            out[name] = {
                "kind": "binary" if self.binary[a] else "continuous",
                "probe_accuracy": num(self.accuracy[a]),
                "probe_auc": num(self.auc[a]),
                "majority_accuracy": num(self.majority[a]),
                "probe_r2": num(self.r2[a]),
                "best_dimension": int(np.argmax(self.dim_corr[a])),
                "best_dimension_abs_corr": num(float(np.max(self.dim_corr[a]))),
            }
        return out


def dimension_correlations(mu: np.ndarray, values: np.ndarray) -> np.ndarray:
    """|Pearson correlation| (A, D) between each attribute column of ``values`` (N, A) and each
    latent dimension of ``mu`` (N, D); 0 where either side is constant."""
    x = np.asarray(mu, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    cov = yc.T @ xc / len(x)  # (A, D)
    scale = np.outer(yc.std(axis=0), xc.std(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(scale > 0, cov / np.where(scale > 0, scale, 1.0), 0.0)
    return np.abs(corr)


def score_attributes(
    mu: np.ndarray,
    values: np.ndarray,
    names: Sequence[str],
    *,
    fit_mu: np.ndarray | None = None,
    fit_values: np.ndarray | None = None,
    seed: int = 0,
) -> AttributeScores:
    """Per-dimension correlations of ``mu`` (N, D) with ``values`` (N, A), and linear probes
    fitted on ``fit_mu`` / ``fit_values`` (e.g. training codes) and scored on ``mu``; without
    them, fitted on a seeded half of ``mu`` and scored on the other half."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    mu, values = np.asarray(mu, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if fit_mu is None or fit_values is None:
        if len(mu) < 4:
            raise ValueError(f"attribute probes need at least 4 codes, got {len(mu)}")
        order = np.random.default_rng(seed).permutation(len(mu))
        fit, held = order[: len(mu) // 2], order[len(mu) // 2 :]
        fit_mu, fit_values, held_mu, held_values = mu[fit], values[fit], mu[held], values[held]
    else:
        fit_mu, fit_values = np.asarray(fit_mu, np.float64), np.asarray(fit_values, np.float64)
        held_mu, held_values = mu, values
    scaler = StandardScaler().fit(fit_mu)
    x_fit, x_held = scaler.transform(fit_mu), scaler.transform(held_mu)
    n = len(names)
    accuracy, auc, majority, r2 = (np.full(n, np.nan) for _ in range(4))
    binary = tuple(is_binary(values[:, a]) for a in range(n))
    for a in range(n):
        y_fit, y_held = fit_values[:, a], held_values[:, a]
        if binary[a]:
            if np.unique(y_fit).size < 2 or np.unique(y_held).size < 2:
                continue  # one half holds one value only: nothing to learn or to score
            probe = LogisticRegression(max_iter=2000).fit(x_fit, y_fit)
            accuracy[a] = float((probe.predict(x_held) == y_held).mean())
            auc[a] = float(roc_auc_score(y_held, probe.decision_function(x_held)))
            majority[a] = float(max(y_held.mean(), 1.0 - y_held.mean()))
        else:
            probe = Ridge(alpha=1.0).fit(x_fit, y_fit)
            r2[a] = float(probe.score(x_held, y_held))
    return AttributeScores(
        names=tuple(names),
        binary=binary,
        dim_corr=dimension_correlations(mu, values),
        accuracy=accuracy,
        auc=auc,
        majority=majority,
        r2=r2,
        n_fit=len(x_fit),
        n_held_out=len(x_held),
    )


def choose_attributes(
    names: Sequence[str], values: np.ndarray, wanted: Sequence[str] | None = None
) -> list[int]:
    """Column indices of the binary attributes to draw directions for.

    ``wanted`` names them (each must exist, be binary and hold both values); by default all
    binary attributes when there are at most :data:`MAX_DEFAULT`, else the :data:`PREFERRED`
    ones present, filled up to :data:`MAX_DEFAULT` with the most balanced of the others.
    """
    usable = [
        a
        for a in range(len(names))
        if is_binary(values[:, a]) and np.unique(values[:, a]).size == 2
    ]
    if wanted:
        out = []
        for name in wanted:
            if name not in names:
                raise ValueError(f"attribute {name!r} is not one of {', '.join(names)}")
            if names.index(name) not in usable:
                raise ValueError(
                    f"attribute {name!r} is not a binary attribute with both values in the test set"
                )
            out.append(list(names).index(name))
        return out
    if len(usable) <= MAX_DEFAULT:
        return usable
    chosen = [names.index(p) for p in PREFERRED if p in names and names.index(p) in usable]
    balance = sorted(usable, key=lambda a: abs(values[:, a].mean() - 0.5))
    chosen += [a for a in balance if a not in chosen][: max(0, MAX_DEFAULT - len(chosen))]
    return chosen[:MAX_DEFAULT]


def attribute_direction(mu: np.ndarray, values: np.ndarray, name: str) -> AttributeDirection:
    """Mean code with the binary attribute minus mean code without it."""
    return direction_from_mask(np.asarray(mu, dtype=np.float64), np.asarray(values) > 0.5, name)


def continuous_direction(mu: np.ndarray, values: np.ndarray) -> np.ndarray:
    """How the mean code moves per standard deviation of a continuous attribute: the slope of
    the least-squares line of each code dimension on the attribute, times its standard
    deviation, Cov(z, a) / σ_a (D,). For a 0/1 attribute the slope alone, Cov(z, a) / Var(a),
    is the difference of the two means that :func:`attribute_direction` takes. All zeros for a
    constant attribute."""
    mu = np.asarray(mu, dtype=np.float64)  # (N, D)
    a = np.asarray(values, dtype=np.float64)  # (N,)
    spread = a.std()
    if spread == 0.0:
        return np.zeros(mu.shape[1])
    return ((a - a.mean()) @ (mu - mu.mean(0))) / (a.size * spread)


def analogy_indices(mu: np.ndarray, has: np.ndarray, n_rows: int, *, seed: int = 0) -> np.ndarray:
    """Rows (n_rows, 3) of inputs (A, B, C) for the analogy A − B + C: A has the attribute, B is
    the input without it whose code is nearest A's (so A − B is mostly the attribute), C is
    another input without it (so A − B + C should be C with the attribute)."""
    has = np.asarray(has, dtype=bool)
    with_it, without = np.flatnonzero(has), np.flatnonzero(~has)
    if with_it.size < 1 or without.size < 2:
        raise ValueError("an analogy needs inputs with the attribute and two without it")
    rng = np.random.default_rng(seed)
    rows = []
    for a in rng.choice(with_it, size=min(n_rows, with_it.size), replace=False):
        dist = np.linalg.norm(mu[without] - mu[a], axis=1)
        b = int(without[np.argmin(dist)])
        c = int(rng.choice(without[without != b]))
        rows.append((int(a), b, c))
    return np.asarray(rows, dtype=np.int64)
