"""Find shown images by the name of the file they came from: an image folder's relative paths
(``cats/tabby-3.png``) or CelebA's file names (``000123.jpg``), which are also the keys of an
attribute table. A query matches every name that contains it, ignoring case; a name equal to
the query comes first, then the rest in test order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vae_atlas.explorer.api import RunDep

router = APIRouter(prefix="/api")
MAX_MATCHES = 1000  # indices sent back; `total` still counts every match


class NameMatches(BaseModel):
    searchable: bool = Field(description="false when the shown images carry no file names")
    total: int = Field(description="how many names contain the query")
    indices: list[int] = Field(description="the matching points, exact names first (capped)")
    names: list[str] = Field(description="their names, in the same order")


def find_names(names: tuple[str, ...], query: str, limit: int = MAX_MATCHES) -> tuple[int, list]:
    """(total, indices) of the ``names`` containing ``query`` (case-insensitive), exact first."""
    q = query.strip().lower()
    if not q:
        return 0, []
    exact, partial = [], []
    for i, name in enumerate(names):
        low = name.lower()
        if low == q or low.rsplit("/", 1)[-1] == q:
            exact.append(i)
        elif q in low:
            partial.append(i)
    found = exact + partial
    return len(found), found[:limit]


@router.get("/runs/{run_id}/names", response_model=NameMatches)
def search_names(
    run: RunDep, q: Annotated[str, Query(min_length=1, max_length=512)]
) -> NameMatches:
    names = run.images.names
    if names is None:
        return NameMatches(searchable=False, total=0, indices=[], names=[])
    total, indices = find_names(names, q)
    return NameMatches(
        searchable=True, total=total, indices=indices, names=[names[i] for i in indices]
    )
