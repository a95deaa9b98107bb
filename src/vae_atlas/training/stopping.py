"""Early stopping on the validation split (Prechelt 1998, "Early Stopping — But When?"): stop
when the validation −ELBO has not improved for ``patience`` epochs, and end with the weights of
the best epoch.

The rule reads only the metrics rows, so it needs no state of its own: a resumed run, whose
rows up to its checkpoint are restored, decides exactly as the uninterrupted run would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MetricsRow = dict[str, Any]


def validation_score(row: MetricsRow) -> float | None:
    """The number early stopping minimises: validation −ELBO in nats, or for a plain
    autoencoder (which has no ELBO) its validation reconstruction NLL."""
    value = row.get("val_neg_elbo")
    return row.get("val_recon") if value is None else value


@dataclass(frozen=True)
class EarlyStopping:
    """``rule(rows)`` is True once ``patience`` epochs have passed since the best one."""

    patience: int

    def __post_init__(self) -> None:
        if isinstance(self.patience, bool) or not isinstance(self.patience, int):
            raise ValueError(f"patience={self.patience!r} must be an integer >= 1")
        if self.patience < 1:
            raise ValueError(f"patience={self.patience!r} must be an integer >= 1")

    @classmethod
    def of(cls, patience: int | None) -> EarlyStopping | None:
        return None if patience is None else cls(patience)

    def best_epoch(self, rows: list[MetricsRow]) -> int:
        """The epoch with the lowest validation score (the first of equals: a later epoch must
        improve strictly); epoch 0, the untrained model, counts too."""
        scored = [(validation_score(r), r["epoch"]) for r in rows]
        scored = [(s, e) for s, e in scored if s is not None]
        if not scored:
            raise ValueError("early stopping needs val_* metrics (a validation split)")
        return min(scored, key=lambda item: (item[0], item[1]))[1]

    def __call__(self, rows: list[MetricsRow]) -> bool:
        return rows[-1]["epoch"] - self.best_epoch(rows) >= self.patience

    def describe(self, rows: list[MetricsRow], *, stopped: bool) -> str:
        """One line: why training ended and which weights model.safetensors holds."""
        best = self.best_epoch(rows)
        last = rows[-1]["epoch"]
        score = validation_score(rows[best])
        head = (
            f"stopped early after epoch {last}: validation loss has not improved for "
            f"{last - best} epochs"
            if stopped
            else f"trained all {last} epochs"
        )
        return (
            f"{head}; model.safetensors holds the best epoch's weights (epoch {best}, "
            f"validation {score:.2f} nats), checkpoint.safetensors epoch {last}'s"
        )
