"""The condition a cvae run's codes are decoded under, as the page chose it.

By default the explorer decodes a cvae's code under the condition of the nearest test code (a
point's own class or attributes). The page's "decode as" control
(``static/condition.js``) names another: a class ``y`` for a cvae conditioned on labels, or
attribute values ``attrs`` (one per attribute, in the run's order) for one conditioned on an
attribute vector. Every value is checked against the run here; a bad one is a 422 naming the
parameter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from fastapi import HTTPException

from vae_atlas.explorer import schemas as s
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.models.conditional import attribute_names_of, is_conditional


def condition_info(run: ExplorerRun) -> s.ConditionInfo | None:
    """What a cvae run can be decoded under (None for any other model)."""
    model = run.model
    if not is_conditional(model):
        return None
    names = attribute_names_of(model)
    if names:
        binary = [bool(b) for b in model.condition_binary.cpu().tolist()]
        return s.ConditionInfo(kind="attributes", names=list(names), binary=binary)
    n = int(model.n_classes)
    known = run.class_names or []
    classes = known[:n] if len(known) >= n else [str(i) for i in range(n)]
    return s.ConditionInfo(kind="labels", names=classes, binary=None)


def parse_attrs(text: str | None) -> list[float] | None:
    """``attrs=1,0,0.5`` of a query string as numbers (None when absent)."""
    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise HTTPException(
            422, "attrs must be comma-separated numbers, e.g. attrs=1,0,1"
        ) from None


def chosen_condition(
    run: ExplorerRun, y: int | None, attrs: Sequence[float] | None, n: int
) -> np.ndarray | None:
    """The condition the request chose for ``n`` codes: classes (n,) or attribute rows (n, A);
    None (each code's own) when it chose none. A value this run cannot take is a 422."""
    if y is None and attrs is None:
        return None
    if y is not None and attrs is not None:
        raise HTTPException(422, "give y (a class) or attrs (attribute values), not both")
    names = attribute_names_of(run.model)
    if y is not None:
        return np.full(n, _class(run, y, names), dtype=np.int64)
    assert attrs is not None
    if not names:
        raise HTTPException(
            422, "attrs applies to a cvae conditioned on attributes; " + _what_it_takes(run)
        )
    if len(attrs) != len(names):
        raise HTTPException(
            422,
            f"attrs has {len(attrs)} values; this run is conditioned on {len(names)} "
            f"attributes ({', '.join(names)})",
        )
    binary = run.model.condition_binary.cpu().tolist()
    for i, (value, name) in enumerate(zip(attrs, names, strict=True)):
        if not math.isfinite(value) or abs(value) > s.MAX_ABS_LATENT:
            raise HTTPException(422, f"attrs[{i}] ({name}) must be a finite number")
        if binary[i] and value not in (0.0, 1.0):
            raise HTTPException(422, f"attrs[{i}] ({name}) is binary: 0 or 1, got {value:g}")
    return np.tile(np.asarray(attrs, dtype=np.float32), (n, 1))  # (n, A)


def upload_condition(
    run: ExplorerRun, y: int | None, attrs: Sequence[float] | None
) -> np.ndarray | None:
    """The condition an uploaded image is encoded under: a cvae's encoder q(z | x, y) needs
    one, and an upload has no label of its own, so the page sends its "decode as" choice;
    without one a cvae refuses (422). None for any other model."""
    condition = chosen_condition(run, y, attrs, 1)
    if condition is None and is_conditional(run.model):
        names = attribute_names_of(run.model)
        what, how = (
            (f"attributes ({', '.join(names)}); choose them", "attrs=1,0,...")
            if names
            else ("class; choose one", f"y=0..{int(run.model.n_classes) - 1}")
        )
        raise HTTPException(
            422,
            f'this run is a cvae: encoding an image needs its {what} in "decode as" '
            f"({how} in the API)",
        )
    return condition


def _class(run: ExplorerRun, y: int, names: tuple[str, ...]) -> int:
    if not is_conditional(run.model) or names:
        raise HTTPException(
            422,
            "y (a class to decode under) applies to a cvae conditioned on labels; "
            + _what_it_takes(run),
        )
    n = int(run.model.n_classes)
    if not 0 <= y < n:
        raise HTTPException(422, f"y={y} is not a class of this run (0..{n - 1})")
    return y


def _what_it_takes(run: ExplorerRun) -> str:
    if not is_conditional(run.model):
        return "this run is not a cvae"
    names = attribute_names_of(run.model)
    if names:
        return f"this one takes attrs ({', '.join(names)})"
    return f"this one takes y (a class 0..{int(run.model.n_classes) - 1})"
