"""Files of a run directory, written atomically and read without pickle.

Every file is written to a temporary sibling, flushed, fsynced and renamed over its target, so a
crash (even ``kill -9``) at any moment leaves either the old or the new file, never a torn one.
Tensors go to safetensors, everything else to JSON.

Layout (the contract between stages, see DESIGN.md)::

    config.json             RunConfig
    model.safetensors       weights only (what load_run reads)
    checkpoint.safetensors  weights + Adam state + RNG state + loop position (what --resume reads),
                            one file so that it is always self-consistent
    state.json              status (running, complete, stopped, interrupted, diverged), epoch,
                            message
    best.safetensors        with early stopping: the best validation epoch's weights so far
    metrics.jsonl           one JSON object per epoch (epoch 0 = the untrained model)
    snapshots/              probe.safetensors (probe indices, labels) and epoch_NNNN.safetensors
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from vae_atlas.config import ConfigError, RunConfig

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
CHECKPOINT = "checkpoint.safetensors"
STATE = "state.json"
METRICS = "metrics.jsonl"
SNAPSHOTS = "snapshots"
PROBE = "probe.safetensors"


class RunFileError(ValueError):
    """A file of a run directory is missing, corrupt or does not fit the model; names the file."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not allow opening directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete the temporary files a killed writer left behind (``.NAME.*.tmp``).

    Only a process that is about to write the run (``--resume``) calls this; a reader never
    changes a run directory.
    """
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / SNAPSHOTS):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any] | None = None
) -> None:
    """Atomically write tensors (made contiguous, moved to CPU) and JSON metadata to safetensors."""
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    meta = {"json": json.dumps(metadata)} if metadata is not None else None
    atomic_write_bytes(path, st_save(cpu, metadata=meta))


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """Read a safetensors file written by :func:`save_tensors`; no code is ever executed."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunFileError(f"{path}: file is missing") from None
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        tensors = st_load(data)
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
    except (SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: not a valid safetensors file ({exc})") from None
    raw_meta = (header.get("__metadata__") or {}).get("json")
    try:
        meta = json.loads(raw_meta) if raw_meta is not None else None
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{path}: corrupt metadata ({exc})") from None
    return tensors, meta


def check_weights(
    model: nn.Module, tensors: dict[str, torch.Tensor], source: Path, *, prefix: str = ""
) -> None:
    """Check ``tensors`` against ``model``'s names, shapes, dtypes and finiteness; names any
    misfit (``prefix`` is how the file spells the names, e.g. ``model.``)."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise RunFileError(
            f"{source}: tensors do not match the model in config.json "
            f"(missing {missing[:5]}, unexpected {extra[:5]})"
        )
    for name, want in expected.items():
        got = tensors[name]
        if got.shape != want.shape:
            raise RunFileError(
                f"{source}: tensor '{prefix}{name}' has shape {tuple(got.shape)}, the model "
                f"needs {tuple(want.shape)}"
            )
        if got.dtype != want.dtype:
            raise RunFileError(
                f"{source}: tensor '{prefix}{name}' has dtype {got.dtype}, expected {want.dtype}"
            )
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise RunFileError(f"{source}: tensor '{prefix}{name}' holds NaN or Inf values")


def load_weights_into(model: nn.Module, tensors: dict[str, torch.Tensor], source: Path) -> None:
    """Copy ``tensors`` into ``model`` after :func:`check_weights`."""
    check_weights(model, tensors, source)
    model.load_state_dict(tensors)


MAX_JSON_BYTES = 64 * 2**20
"""config.json and state.json are a few kB; anything larger than this is not a run file."""
MAX_HEADER_BYTES = 100 * 2**20
"""The largest safetensors header (the format's own limit)."""


def parse_json(text: str | bytes, source: Path | str) -> Any:
    """``json.loads`` whose every failure is a :class:`RunFileError` naming ``source``: invalid
    JSON, nesting deeper than the parser's recursion limit, integers over Python's digit limit."""
    try:
        return json.loads(text)
    except RecursionError:
        raise RunFileError(f"{source}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, too many digits
        raise RunFileError(f"{source}: not valid JSON ({exc})") from None


def read_json(path: Path) -> Any:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise RunFileError(f"{path}: {path.stat().st_size} bytes, over {MAX_JSON_BYTES}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunFileError(f"{path}: file is missing") from None
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_json(data, path)


def read_run_config(run_dir: Path) -> RunConfig:
    """The run's ``config.json``; every problem a :class:`RunFileError` naming file and field."""
    path = Path(run_dir) / CONFIG
    if not path.exists():
        raise RunFileError(f"{path}: file is missing; is {run_dir} a vae-atlas run?")
    try:
        return RunConfig.from_dict(read_json(path), source=str(path))
    except ConfigError as exc:
        raise RunFileError(str(exc)) from None


def read_header(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A safetensors file's header (name -> dtype, shape, offsets) and metadata, without reading
    the tensor bytes: what a file claims can be checked before anything is allocated for it."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            n = int.from_bytes(f.read(8), "little")
            if size < 8 or n > min(MAX_HEADER_BYTES, size - 8):
                raise RunFileError(f"{path}: not a valid safetensors file (header length {n})")
            raw = f.read(n)
    except FileNotFoundError:
        raise RunFileError(f"{path}: file is missing") from None
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    header = parse_json(raw, path)
    if not isinstance(header, dict):
        raise RunFileError(f"{path}: not a valid safetensors file (header is not an object)")
    meta = header.pop("__metadata__", None)
    raw_meta = meta.get("json") if isinstance(meta, dict) else None
    return header, None if raw_meta is None else parse_json(raw_meta, path)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Read metrics.jsonl; a torn last line (crash mid-append) is ignored, other damage is not."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise RunFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = parse_json(line, path)
        except RunFileError:
            if i == len(lines) - 1:
                break
            raise RunFileError(f"{path}: line {i + 1} is not valid JSON") from None
        _check_metrics_row(path, i + 1, row, rows[-1]["epoch"] if rows else -1)
        rows.append(row)
    return rows


def _check_metrics_row(path: Path, line: int, row: object, previous_epoch: int) -> None:
    """A row is an object with an integer ``epoch`` after the previous row's, and numbers (or
    null, or lists of them) everywhere else: what every reader of the metrics relies on."""
    if not isinstance(row, dict):
        raise RunFileError(f"{path}: line {line} is not a JSON object")
    epoch = row.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch <= previous_epoch:
        raise RunFileError(
            f"{path}: line {line}: 'epoch'={epoch!r} must be an integer after {previous_epoch}"
        )
    for key, value in row.items():
        values = value if isinstance(value, list) else [value]
        if not all(v is None or _is_number(v) for v in values):
            raise RunFileError(f"{path}: line {line}: {key!r} must be a number, null or a list")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def write_metrics(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in rows).encode())
