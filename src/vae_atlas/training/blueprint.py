"""What a model config will allocate, found without allocating it.

A ``config.json`` can ask for ``latent_dim`` 10¹² or hidden widths of 10⁵; building that model
would take terabytes before the weights file is even read. So the model is first built on
PyTorch's ``meta`` device (shapes and dtypes, no storage), its size is bounded, and a run's
``model.safetensors`` header (readable without the tensor bytes) is compared with it. Only then
is the real model built.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from vae_atlas.checkpoint import RunFileError, read_header
from vae_atlas.config import ConfigError, ModelConfig
from vae_atlas.models import build_model

MAX_PARAMETERS = 10**9
"""The most parameters a config may ask for: 4 GB of float32 weights (training needs 4x that
for gradients and Adam's two moments), far beyond any model vae-atlas trains in memory."""

_SAFETENSORS_DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}

Blueprint = dict[str, tuple[tuple[int, ...], torch.dtype]]


def model_blueprint(cfg: ModelConfig) -> Blueprint:
    """Name -> (shape, dtype) of every tensor in the state dict of ``build_model(cfg)``, found
    on the meta device; raises :class:`ConfigError` if the model exceeds ``MAX_PARAMETERS``."""
    try:
        with torch.device("meta"):
            model = build_model(cfg)
    except (RuntimeError, OverflowError, TypeError, ValueError) as exc:  # e.g. 10**30 widths
        raise ConfigError(f"model: cannot build this architecture ({exc})") from None
    blueprint = {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
    total = sum(math.prod(shape) for shape, _ in blueprint.values())
    if total > MAX_PARAMETERS:
        raise ConfigError(
            f"model: latent_dim={cfg.latent_dim}, hidden={list(cfg.hidden)} and image_shape="
            f"{list(cfg.image_shape)} need {total:.3g} parameters; at most {MAX_PARAMETERS:.0e} "
            "are allowed"
        )
    return blueprint


def check_weights_header(path: Path, blueprint: Blueprint) -> None:
    """Compare a safetensors file's header with ``blueprint`` (names, shapes, dtypes) and check
    that the file is exactly as long as the header says, before any tensor is read."""
    header, _ = read_header(path)
    missing = sorted(set(blueprint) - set(header))
    extra = sorted(set(header) - set(blueprint))
    if missing or extra:
        raise RunFileError(
            f"{path}: tensors do not match the model in config.json "
            f"(missing {missing[:5]}, unexpected {extra[:5]})"
        )
    end = 0
    for name, (shape, dtype) in blueprint.items():
        entry = header[name]
        got = entry.get("shape") if isinstance(entry, dict) else None
        if got != list(shape):
            raise RunFileError(
                f"{path}: tensor {name!r} has shape {_shape(got)}, the model needs {shape}"
            )
        if entry.get("dtype") != _SAFETENSORS_DTYPES.get(dtype):
            raise RunFileError(
                f"{path}: tensor {name!r} has dtype {entry.get('dtype')!r}, expected {dtype}"
            )
        offsets = entry.get("data_offsets")
        if isinstance(offsets, list) and len(offsets) == 2 and isinstance(offsets[1], int):
            end = max(end, offsets[1])
    with Path(path).open("rb") as f:  # read_header checked these 8 bytes already
        header_len = int.from_bytes(f.read(8), "little")
        size = os.fstat(f.fileno()).st_size
    if size != 8 + header_len + end:
        raise RunFileError(
            f"{path}: not a valid safetensors file ({size} bytes; its header describes "
            f"{8 + header_len + end})"
        )


def _shape(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value
