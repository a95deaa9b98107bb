"""Files of a run directory, written atomically and read without pickle.

Every file is written to a temporary sibling, flushed, fsynced and renamed over its target, so a
crash (even ``kill -9``) at any moment leaves either the old or the new file, never a torn one.
Tensors go to safetensors, everything else to JSON.

Layout (the contract between stages, see DESIGN.md)::

    config.json             RunConfig
    model.safetensors       weights only (what load_run reads)
    checkpoint.safetensors  weights + Adam state + RNG state + loop position (what --resume reads),
                            one file so that it is always self-consistent
    state.json              status (running, complete, interrupted, diverged), epoch, message
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


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RunFileError(f"{path}: file is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: not valid JSON ({exc})") from None


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
        raise RunFileError(f"{path}: cannot read ({exc.strerror})") from None
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise RunFileError(f"{path}: line {i + 1} is not valid JSON") from None
        if not isinstance(row, dict):
            raise RunFileError(f"{path}: line {i + 1} is not a JSON object")
        rows.append(row)
    return rows


def write_metrics(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in rows).encode())
