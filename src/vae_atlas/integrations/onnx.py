"""A run's encoder and decoder as ONNX graphs (``torch.onnx.export``, dynamic batch), checked
against the PyTorch model with onnxruntime.

``encoder.onnx`` takes ``image`` (B, C, H, W) float32 in [0, 1] and returns ``mu`` (B, D) and,
for a VAE, ``logvar`` (B, D); ``decoder.onnx`` takes ``z`` (B, D) and returns ``image``, the
decoder's mean image (B, C, H, W) in [0, 1] — the same functions as ``model.encode`` /
``model.decode``. A conditional VAE's encoder and decoder both read the condition, so both
graphs take it as a second input ``y``: the class (B,) int64 of a cvae conditioned on labels,
or the attribute values (B, A) float32, as in the dataset, of one conditioned on attributes.
Unlike the PyTorch model, the graphs do not check that a class is in 0..K-1.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vae_atlas.config import ConfigError
from vae_atlas.integrations.extras import require
from vae_atlas.models.conditional import attribute_names_of, is_conditional

OPSET = 18
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
# the graphs are traced at this batch size; the check runs at another one, so a batch size
# that was baked in instead of kept dynamic fails the check
_TRACE_BATCH = 3


class OnnxExportError(ConfigError):
    """The model could not be exported, or onnxruntime cannot load what was exported."""


@dataclass(frozen=True)
class OnnxExport:
    """The two files written and, per output, the largest |onnxruntime - PyTorch| difference
    on the check inputs (``n_checked`` images for the encoder, as many codes for the decoder)."""

    encoder: Path
    decoder: Path
    max_abs_diff: dict[str, float]
    n_checked: int

    @property
    def worst(self) -> float:
        return max(self.max_abs_diff.values())


class _EncoderGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, image: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        # a cvae's second input; torch.export takes no *args, so None stands for "none"
        mu, logvar = self.model.encode(image) if y is None else self.model.encode(image, y)
        return (mu,) if logvar is None else (mu, logvar)


class _DecoderGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(z) if y is None else self.model.decode(z, y)


def encoder_outputs(model: nn.Module) -> tuple[str, ...]:
    """The encoder graph's output names: ``mu`` and, for a stochastic encoder, ``logvar``."""
    return ("mu", "logvar") if getattr(model, "stochastic", True) else ("mu",)


def random_conditions(model: nn.Module, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` seeded conditions a cvae takes: classes (n,), or attribute rows (n, A) with 0/1 for
    a binary attribute and the training set's mean ± its standard deviation otherwise."""
    names = attribute_names_of(model)
    if not names:
        return torch.randint(0, int(model.n_classes), (n,), generator=generator)
    binary = model.condition_binary.cpu()
    coins = torch.randint(0, 2, (n, len(names)), generator=generator).float()
    spread = model.condition_shift.cpu() + model.condition_scale.cpu() * torch.randn(
        n, len(names), generator=generator
    )
    return torch.where(binary, coins, spread)  # (n, A)


def export_onnx(
    model: nn.Module,
    out_dir: str | Path,
    check_images: torch.Tensor,
    *,
    check_conditions: torch.Tensor | None = None,
    opset: int = OPSET,
) -> OnnxExport:
    """Write ``encoder.onnx`` and ``decoder.onnx`` of ``model`` into ``out_dir`` and check them.

    ``check_images`` (N, C, H, W) float in [0, 1] are encoded by both runtimes; the decoder is
    checked on the PyTorch codes of those images. A conditional model's graphs also take ``y``
    and are checked with ``check_conditions``, the images' classes (N,) or attribute rows
    (N, A). Both files are written under temporary names and renamed into place only once
    onnxruntime has run them, so an existing export is replaced only by a complete one.
    """
    onnx = require("onnx", "export onnx")
    require("onnxscript", "export onnx")
    ort = require("onnxruntime", "export onnx")
    newest = int(onnx.defs.onnx_opset_version())
    if not OPSET <= opset <= newest:
        raise ConfigError(f"--opset {opset}: the exporter writes opsets {OPSET} to {newest} here")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    outputs = encoder_outputs(model)
    x = check_images.detach().float().cpu()  # (N, C, H, W)
    y = _check_conditions(model, check_conditions, len(x))  # () or ((N,) | (N, A),)
    trace_y = () if not y else (random_conditions(model, _TRACE_BATCH, torch.Generator()),)
    temps = {name: out / f".{name}.tmp" for name in (ENCODER_FILE, DECODER_FILE)}
    try:
        trace_x = torch.rand(_TRACE_BATCH, *check_images.shape[1:])
        names = ("image", *("y" for _ in y))
        _export(
            _EncoderGraph(model), (trace_x, *trace_y), temps[ENCODER_FILE], (names, outputs), opset
        )
        trace_z = torch.randn(_TRACE_BATCH, int(model.latent_dim))
        names = ("z", *("y" for _ in y))
        _export(
            _DecoderGraph(model),
            (trace_z, *trace_y),
            temps[DECODER_FILE],
            (names, ("image",)),
            opset,
        )
        with torch.no_grad():
            torch_codes = _EncoderGraph(model).eval()(x, *y)
            torch_images = model.decode(torch_codes[0], *y)
        given = {"y": y[0].numpy()} if y else {}
        onnx_codes = _session(ort, temps[ENCODER_FILE]).run(None, {"image": x.numpy(), **given})
        z = torch_codes[0].numpy()
        onnx_images = _session(ort, temps[DECODER_FILE]).run(None, {"z": z, **given})
        for name, temp in temps.items():
            os.replace(temp, out / name)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    diffs = {
        f"encoder {name}": _max_diff(a, b)
        for name, a, b in zip(outputs, onnx_codes, torch_codes, strict=True)
    }
    diffs["decoder image"] = _max_diff(onnx_images[0], torch_images)
    return OnnxExport(out / ENCODER_FILE, out / DECODER_FILE, diffs, int(x.shape[0]))


def _check_conditions(
    model: nn.Module, conditions: torch.Tensor | None, n: int
) -> tuple[torch.Tensor, ...]:
    """The graphs' second input for the check, as its dtype: () for an unconditional model."""
    if not is_conditional(model):
        return ()
    if conditions is None or len(conditions) != n:
        raise OnnxExportError(
            "a conditional VAE's graphs take the condition as a second input: give "
            f"check_conditions, the {n} check images' classes (N,) or attribute rows (N, A)"
        )
    conditions = torch.as_tensor(conditions).cpu()
    return (conditions.float() if attribute_names_of(model) else conditions.long(),)


def _session(ort: Any, path: Path) -> Any:
    try:
        return ort.InferenceSession(str(path))
    except Exception as exc:  # onnxruntime's own error types, one per failure
        raise OnnxExportError(
            f"onnxruntime cannot load the exported graph: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _max_diff(onnx_out: np.ndarray, torch_out: torch.Tensor) -> float:
    if onnx_out.shape != tuple(torch_out.shape):
        return float("inf")
    return float(np.max(np.abs(onnx_out - torch_out.numpy()), initial=0.0))


def _export(
    graph: nn.Module,
    example: tuple[torch.Tensor, ...],
    path: Path,
    names: tuple[tuple[str, ...], tuple[str, ...]],
    opset: int,
) -> None:
    input_names, output_names = names
    batch = torch.export.Dim("batch")  # every input's first dimension is the same batch
    try:
        with _quiet_exporter():
            torch.onnx.export(
                graph.eval(),
                example,
                str(path),
                input_names=list(input_names),
                output_names=list(output_names),
                opset_version=opset,
                dynamo=True,
                dynamic_shapes=tuple({0: batch} for _ in example),
                external_data=False,
                verbose=False,
            )
    except Exception as exc:  # the exporter raises many types; a model it cannot trace is one
        raise OnnxExportError(
            f"torch.onnx.export failed on this model: {_first_line(exc)}"
        ) from None


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter narrates its passes on stdout and logs optional operator sets it skips
    (torchvision's); the command prints its own result, so both are kept off the terminal."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
