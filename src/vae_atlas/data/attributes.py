"""Attribute tables: per-image values (binary or continuous) keyed by file name or path.

Two formats are read, told apart by the first lines:

- CSV with a header; the key column is the first of ``file``, ``filename``, ``image_id`` or
  ``path`` (any case), every other column is an attribute;
- a whitespace table like CelebA's ``list_attr_celeba.txt``: an optional line holding only the
  row count, a line of attribute names, then ``key v1 v2 ...`` per image (the key column has no
  name there; if the name line has as many fields as the rows, it must name the key column as
  a CSV does).

Values: numbers, or true/false/yes/no. A column whose values are all in {0, 1}, {−1, 1} or
true/false is binary and is stored as 0/1; any other numeric column is continuous and kept as
it is. A column with one value only says nothing about any image and is dropped with a warning.
Every problem with the file is a :class:`DataError` naming the file and, where there is one,
the row and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_atlas.data.dataset import DataError

KEY_COLUMNS = ("file", "filename", "image_id", "path")
_TRUE, _FALSE = frozenset({"true", "yes"}), frozenset({"false", "no"})
_EXAMPLES = 3  # keys quoted in a message about many


@dataclass(frozen=True)
class AttributeTable:
    """``values`` (N, A) float32 for the images named by ``keys`` (N,), columns ``names`` (A,);
    binary columns hold 0/1. ``source`` is the file it was read from."""

    source: str
    keys: tuple[str, ...]
    names: tuple[str, ...]
    values: np.ndarray


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_attribute_table(path: str | os.PathLike[str]) -> AttributeTable:
    """Read a CSV or whitespace attribute table (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: attribute file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the attribute file ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: the attribute file is empty")
    header, rows, first_row = _split_rows(path, lines)
    key_at = _key_column(path, header)
    names = [h for i, h in enumerate(header) if i != key_at]
    if not names:
        raise DataError(f"{path}: no attribute columns besides the key column")
    keys = [_normal_key(row[key_at]) for row in rows]
    _check_unique(path, keys, first_row)
    raw = [[row[i] for i in range(len(row)) if i != key_at] for row in rows]
    columns = [
        _parse_column(path, name, [r[j] for r in raw], first_row) for j, name in enumerate(names)
    ]
    kept = [j for j, col in enumerate(columns) if _informative(path, names[j], col)]
    if not kept:
        raise DataError(f"{path}: every attribute column has a single value")
    values = np.stack([columns[j] for j in kept], axis=1).astype(np.float32)  # (N, A)
    return AttributeTable(str(path), tuple(keys), tuple(names[j] for j in kept), values)


def _split_rows(path: Path, lines: list[str]) -> tuple[list[str], list[list[str]], int]:
    """Header fields, data rows (fields each) and the file line number of the first data row."""
    if "," in lines[0] or (len(lines) > 1 and "," in lines[1]):
        parsed = list(csv.reader(io.StringIO("\n".join(lines))))
        header, rows, first = [h.strip() for h in parsed[0]], parsed[1:], 2
    else:
        skip = 1 if len(lines[0].split()) == 1 and lines[0].strip().isdigit() else 0
        if len(lines) <= skip:
            raise DataError(f"{path}: no header line of attribute names")
        header, first = lines[skip].split(), skip + 2
        rows = [line.split() for line in lines[skip + 1 :]]
        if rows and len(header) == len(rows[0]) - 1:  # CelebA: the key column has no name
            header = ["image_id", *header]
    if not rows:
        raise DataError(f"{path}: a header but no rows")
    for n, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {first + n} has {len(row)} fields but the header has {len(header)}"
            )
    return header, [[v.strip() for v in row] for row in rows], first


def _key_column(path: Path, header: list[str]) -> int:
    lowered = [h.lower() for h in header]
    for name in KEY_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    raise DataError(
        f"{path}: no key column: name one of {', '.join(KEY_COLUMNS)} (columns: {header})"
    )


def _normal_key(key: str) -> str:
    key = key.replace("\\", "/")
    return key[2:] if key.startswith("./") else key


def _check_unique(path: Path, keys: list[str], first_row: int) -> None:
    seen: dict[str, int] = {}
    dupes: list[str] = []
    for n, key in enumerate(keys):
        if key in seen:
            dupes.append(f"{key!r} (lines {first_row + seen[key]} and {first_row + n})")
        else:
            seen[key] = n
    if dupes:
        raise DataError(
            f"{path}: {len(dupes)} duplicated keys, e.g. {', '.join(dupes[:_EXAMPLES])}"
        )


def _parse_column(path: Path, name: str, cells: list[str], first_row: int) -> np.ndarray:
    """One column as float64 (N,); binary columns (0/1, −1/1, true/false) become 0/1."""
    out = np.empty(len(cells), dtype=np.float64)
    for n, cell in enumerate(cells):
        word = cell.lower()
        if word in _TRUE or word in _FALSE:
            out[n] = 1.0 if word in _TRUE else 0.0
            continue
        try:
            out[n] = float(cell)
        except ValueError:
            out[n] = np.nan
        if not np.isfinite(out[n]):
            raise DataError(
                f"{path}: line {first_row + n}, column {name!r}: {cell!r} is not a number "
                "or true/false"
            )
    if set(np.unique(out)) <= {-1.0, 1.0}:
        out = (out > 0).astype(np.float64)
    return out


def _informative(path: Path, name: str, column: np.ndarray) -> bool:
    if np.unique(column).size > 1:
        return True
    warnings.warn(
        f"{path}: attribute {name!r} has the one value {column[0]:g} for every row; dropped",
        stacklevel=4,
    )
    return False


def is_binary(values: np.ndarray) -> bool:
    """Whether an attribute column (N,) holds only 0 and 1."""
    return bool(np.isin(values, (0.0, 1.0)).all())


def match_attributes(table: AttributeTable, relative_paths: Sequence[str]) -> np.ndarray:
    """The table's values (N, A) in the order of ``relative_paths`` (posix paths of the images
    below the dataset folder). A key with a ``/`` names a relative path, else a file name.

    Raises :class:`DataError` when an image has no row or a file name names two images; rows
    that match no image are dropped with one warning that counts them.
    """
    by_path = {p: i for i, p in enumerate(relative_paths)}
    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(relative_paths):
        by_name.setdefault(p.rsplit("/", 1)[-1], []).append(i)
    row_of = np.full(len(relative_paths), -1, dtype=np.int64)
    unmatched: list[str] = []
    for row, key in enumerate(table.keys):
        hits = [by_path[key]] if key in by_path else by_name.get(key, []) if "/" not in key else []
        if len(hits) > 1:
            shown = ", ".join(relative_paths[i] for i in hits[:_EXAMPLES])
            raise DataError(
                f"{table.source}: key {key!r} matches {len(hits)} images ({shown}); "
                "key those rows by relative path"
            )
        if not hits:
            unmatched.append(key)
        elif row_of[hits[0]] >= 0:
            raise DataError(
                f"{table.source}: image {relative_paths[hits[0]]} is named by two rows "
                f"({table.keys[row_of[hits[0]]]!r} and {key!r})"
            )
        else:
            row_of[hits[0]] = row
    missing = [relative_paths[i] for i in np.flatnonzero(row_of < 0)]
    if missing:
        raise DataError(
            f"{table.source}: {len(missing)} of {len(relative_paths)} images have no row, e.g. "
            f"{', '.join(missing[:_EXAMPLES])}"
        )
    if unmatched:
        warnings.warn(
            f"{table.source}: {len(unmatched)} rows match no image and are ignored, e.g. "
            f"{', '.join(unmatched[:_EXAMPLES])}",
            stacklevel=2,
        )
    return table.values[row_of]
