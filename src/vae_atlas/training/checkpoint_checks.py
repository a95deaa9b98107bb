"""Validation of a ``checkpoint.safetensors`` against the model and data it is resumed with.

A run directory is untrusted input. ``optimizer.load_state_dict`` copies whatever tensors it is
given, and the fused Adam kernel then reads and writes them as if they had their parameter's
shape (out of bounds for a smaller tensor); ``index_select`` with an out-of-range batch order and
a malformed RNG state fail deep in native code. So every tensor and metadata field is checked
here, *before* anything uses it, and each misfit is a :class:`RunFileError` naming the file and
the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vae_atlas.checkpoint import RunFileError, check_weights
from vae_atlas.seeds import DERIVATION

_OPTIM_KEY = re.compile(r"^optim\.(\d{1,6})\.([a-z_]+)$")
_SUM_KEYS = frozenset({"loss", "recon", "kl", "images"})
# param-group fields the checkpoint may set; every other one must equal what the config builds
_FREE_GROUP_FIELDS = ("lr", "fused", "foreach")


@dataclass(frozen=True)
class CheckedCheckpoint:
    """The parts of a checkpoint that passed every check, ready to be restored."""

    weights: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any]
    rng_state: torch.Tensor
    position: dict[str, Any]
    perm: torch.Tensor | None


def check_checkpoint(
    path: Path,
    tensors: dict[str, torch.Tensor],
    meta: Any,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    n_train: int,
    batch_size: int,
) -> CheckedCheckpoint:
    """Check ``tensors`` and ``meta`` read from ``path``; raise :class:`RunFileError` on a misfit.

    ``n_train`` and ``batch_size`` describe the data the loop resumes on: the saved batch order
    must be a permutation of ``range(n_train)`` and the step count must fit its epochs.
    """
    if not isinstance(meta, dict) or "epoch" not in meta:
        raise RunFileError(f"{path}: no loop metadata; not a vae-atlas checkpoint")
    if meta.get("seeds") != DERIVATION:
        raise RunFileError(
            f"{path}: written by a vae-atlas that derived its random streams another way "
            f"(seeds {meta.get('seeds')!r}, this one {DERIVATION!r}); resumed, it would draw "
            "another validation split. The run still loads for report/evaluate/explore; to "
            "train on, train it again into another --out"
        )
    known = {"rng.train", "loop.perm"}
    unexpected = [k for k in tensors if k not in known and not k.startswith(("model.", "optim."))]
    if unexpected:
        raise RunFileError(f"{path}: unexpected tensor {unexpected[0]!r}")
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    check_weights(model, weights, path, prefix="model.")
    position = _check_position(path, meta, n_train=n_train, batch_size=batch_size)
    perm = _check_perm(path, tensors.get("loop.perm"), position, n_train)
    optim = {k: v for k, v in tensors.items() if k.startswith("optim.")}
    state = _check_adam_state(path, optim, list(model.parameters()), position["step"])
    groups = _check_param_groups(path, meta.get("param_groups"), optimizer)
    rng = _check_rng(path, tensors.get("rng.train"), generator)
    return CheckedCheckpoint(weights, {"state": state, "param_groups": groups}, rng, position, perm)


def _int_field(path: Path, meta: dict[str, Any], name: str, low: int, high: int) -> int:
    value = meta.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RunFileError(
            f"{path}: metadata field {name!r}={value!r} must be an integer in [{low}, {high}]"
        )
    return value


def _check_position(
    path: Path, meta: dict[str, Any], *, n_train: int, batch_size: int
) -> dict[str, Any]:
    steps_per_epoch = math.ceil(n_train / batch_size)
    epoch = _int_field(path, meta, "epoch", 0, 10**9)
    batch_index = _int_field(path, meta, "batch_index", 0, steps_per_epoch - 1)
    step = _int_field(path, meta, "step", 0, 10**15)
    if step != epoch * steps_per_epoch + batch_index:
        raise RunFileError(
            f"{path}: metadata field 'step'={step} does not fit epoch {epoch}, batch "
            f"{batch_index} at {steps_per_epoch} batches per epoch (a different dataset?)"
        )
    skipped = _int_field(path, meta, "skipped_batches", 0, batch_index)
    seconds = meta.get("epoch_seconds")
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not (math.isfinite(seconds) and seconds >= 0)
    ):
        raise RunFileError(
            f"{path}: metadata field 'epoch_seconds'={seconds!r} must be a finite number >= 0"
        )
    sums = _check_sums(path, meta.get("sums"))
    return {
        "epoch": epoch,
        "step": step,
        "batch_index": batch_index,
        "sums": sums,
        "epoch_seconds": float(seconds),
        "skipped_batches": skipped,
    }


def _check_sums(path: Path, raw: object) -> dict[str, float]:
    if not isinstance(raw, dict) or not (raw.keys() == _SUM_KEYS or not raw):
        raise RunFileError(f"{path}: metadata field 'sums' must map {sorted(_SUM_KEYS)} to numbers")
    sums = {}
    for key, text in raw.items():
        try:
            value = float(text) if isinstance(text, str) and len(text) < 64 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise RunFileError(
                f"{path}: metadata field 'sums.{key}'={text!r} is not a finite number"
            )
        sums[key] = value
    return sums


def _check_perm(
    path: Path, perm: torch.Tensor | None, position: dict[str, Any], n_train: int
) -> torch.Tensor | None:
    if perm is None:
        if position["batch_index"]:
            raise RunFileError(
                f"{path}: metadata field 'batch_index'={position['batch_index']} needs the batch "
                "order 'loop.perm', which is missing"
            )
        return None
    if perm.dtype != torch.int64 or perm.shape != (n_train,):
        raise RunFileError(
            f"{path}: tensor 'loop.perm' is {perm.dtype} {tuple(perm.shape)}; the data needs "
            f"int64 ({n_train},), a permutation of the training images"
        )
    if not torch.equal(perm.sort().values, torch.arange(n_train)):
        raise RunFileError(f"{path}: tensor 'loop.perm' is not a permutation of 0..{n_train - 1}")
    if not position["sums"]:
        raise RunFileError(f"{path}: metadata field 'sums' is empty in the middle of an epoch")
    return perm


def _check_adam_state(
    path: Path, optim: dict[str, torch.Tensor], params: list[torch.nn.Parameter], max_step: int
) -> dict[int, dict[str, torch.Tensor]]:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in optim.items():
        match = _OPTIM_KEY.match(key)
        if match is None or int(match.group(1)) >= len(params):
            raise RunFileError(f"{path}: tensor {key!r} names no parameter of the model")
        index, slot = int(match.group(1)), match.group(2)
        param = params[index]
        if slot == "step":
            _check_step(path, key, value, max_step)
        elif slot in ("exp_avg", "exp_avg_sq"):
            _check_moment(path, key, value, param, nonnegative=slot == "exp_avg_sq")
        else:
            raise RunFileError(f"{path}: tensor {key!r}: Adam keeps no state called {slot!r}")
        state.setdefault(index, {})[slot] = value
    for index, slots in state.items():
        if set(slots) != {"step", "exp_avg", "exp_avg_sq"}:
            raise RunFileError(
                f"{path}: tensors 'optim.{index}.*' hold {sorted(slots)}; Adam needs step, "
                "exp_avg and exp_avg_sq"
            )
    return state


def _check_step(path: Path, key: str, value: torch.Tensor, max_step: int) -> None:
    ok = value.shape == () and value.dtype == torch.float32
    step = float(value) if ok else math.nan
    if not (math.isfinite(step) and step == int(step) and 0 <= step <= max_step):
        raise RunFileError(
            f"{path}: tensor {key!r} must be a float32 scalar holding a whole number of Adam "
            f"steps in [0, {max_step}]"
        )


def _check_moment(
    path: Path, key: str, value: torch.Tensor, param: torch.Tensor, *, nonnegative: bool
) -> None:
    if value.shape != param.shape or value.dtype != param.dtype:
        raise RunFileError(
            f"{path}: tensor {key!r} is {value.dtype} {tuple(value.shape)}; its parameter "
            f"needs {param.dtype} {tuple(param.shape)}"
        )
    if not torch.isfinite(value).all() or (nonnegative and (value < 0).any()):
        bound = "finite and >= 0" if nonnegative else "finite"
        raise RunFileError(f"{path}: tensor {key!r} must be {bound}")


def _check_param_groups(path: Path, raw: object, optimizer: torch.optim.Optimizer) -> list[dict]:
    current = optimizer.state_dict()["param_groups"]
    if not isinstance(raw, list) or len(raw) != len(current):
        raise RunFileError(
            f"{path}: metadata field 'param_groups' must be a list of {len(current)}"
        )
    groups = []
    for i, (saved, built) in enumerate(zip(raw, current, strict=True)):
        where = f"{path}: metadata field 'param_groups[{i}]'"
        if not isinstance(saved, dict) or not set(saved) <= set(built):
            raise RunFileError(f"{where} must be an object with keys from {sorted(built)}")
        group = dict(built)
        for name, value in saved.items():
            if name in _FREE_GROUP_FIELDS:
                _check_free_field(where, name, value, built)
            elif _normalise(value) != _normalise(built[name]):
                raise RunFileError(
                    f"{where}.{name}={value!r} differs from the run's config ({built[name]!r})"
                )
            group[name] = value
        groups.append(group)
    return groups


def _check_free_field(where: str, name: str, value: object, built: dict[str, Any]) -> None:
    if name == "lr":
        ok = not isinstance(value, bool) and isinstance(value, (int, float))
        ok = ok and math.isfinite(value) and value >= 0  # type: ignore[arg-type]
    elif name == "fused":  # a non-fused checkpoint resumes non-fused; never fused where unsupported
        ok = value in (None, False) or (value is True and built["fused"] is True)
    else:
        ok = value is None or isinstance(value, bool)
    if not ok:
        raise RunFileError(f"{where}.{name}={value!r} is not valid here")


def _normalise(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _check_rng(path: Path, state: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    if state is None:
        raise RunFileError(f"{path}: RNG state 'rng.train' is missing")
    expected = generator.get_state()
    if state.dtype != torch.uint8 or state.shape != expected.shape:
        raise RunFileError(
            f"{path}: tensor 'rng.train' is {state.dtype} {tuple(state.shape)}; a "
            f"{generator.device.type} generator needs uint8 {tuple(expected.shape)}"
        )
    try:  # torch checks the state's internal fields; try it on a scratch generator
        torch.Generator(device=generator.device).set_state(state)
    except RuntimeError as exc:
        raise RunFileError(f"{path}: tensor 'rng.train' is not a valid RNG state ({exc})") from None
    return state


def check_scaler_state(path: Path, meta: dict[str, Any]) -> dict[str, Any] | None:
    """The fp16 loss scaler's saved ``scale`` (finite, > 0) and ``growth_tracker`` (steps since
    the scale last changed, >= 0) from ``meta``, or None when the run saved none."""
    saved = meta.get("scaler")
    if saved is None:
        return None
    scale = saved.get("scale") if isinstance(saved, dict) else None
    tracker = saved.get("growth_tracker") if isinstance(saved, dict) else None
    if (
        isinstance(scale, bool)
        or not isinstance(scale, (int, float))
        or not math.isfinite(scale)
        or scale <= 0
        or isinstance(tracker, bool)
        or not isinstance(tracker, int)
        or tracker < 0
    ):
        raise RunFileError(
            f"{path}: metadata field 'scaler'={saved!r} must hold a finite scale > 0 and an "
            "integer growth_tracker >= 0"
        )
    return {"scale": float(scale), "growth_tracker": tracker}
