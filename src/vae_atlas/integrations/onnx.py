"""A run's encoder and decoder as ONNX graphs (``torch.onnx.export``, dynamic batch), checked
against the PyTorch model with onnxruntime.

``encoder.onnx`` takes ``image`` (B, C, H, W) float32 in [0, 1] and returns ``mu`` (B, D) and,
for a VAE, ``logvar`` (B, D); ``decoder.onnx`` takes ``z`` (B, D) and returns ``image``, the
decoder's mean image (B, C, H, W) in [0, 1] — the same functions as ``model.encode`` /
``model.decode``.
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

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu, logvar = self.model.encode(image)
        return (mu,) if logvar is None else (mu, logvar)


class _DecoderGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z)


def encoder_outputs(model: nn.Module) -> tuple[str, ...]:
    """The encoder graph's output names: ``mu`` and, for a stochastic encoder, ``logvar``."""
    return ("mu", "logvar") if getattr(model, "stochastic", True) else ("mu",)


def export_onnx(
    model: nn.Module,
    out_dir: str | Path,
    check_images: torch.Tensor,
    *,
    opset: int = OPSET,
) -> OnnxExport:
    """Write ``encoder.onnx`` and ``decoder.onnx`` of ``model`` into ``out_dir`` and check them.

    ``check_images`` (N, C, H, W) float in [0, 1] are encoded by both runtimes; the decoder is
    checked on the PyTorch codes of those images. Both files are written under temporary names
    and renamed into place only once onnxruntime has run them, so an existing export is
    replaced only by a complete one.
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
    temps = {name: out / f".{name}.tmp" for name in (ENCODER_FILE, DECODER_FILE)}
    try:
        trace_x = torch.rand(_TRACE_BATCH, *check_images.shape[1:])
        _export(_EncoderGraph(model), trace_x, temps[ENCODER_FILE], ("image", outputs), opset)
        trace_z = torch.randn(_TRACE_BATCH, int(model.latent_dim))
        _export(_DecoderGraph(model), trace_z, temps[DECODER_FILE], ("z", ("image",)), opset)
        x = check_images.detach().float().cpu()  # (N, C, H, W)
        with torch.no_grad():
            torch_codes = _EncoderGraph(model).eval()(x)
            torch_images = model.decode(torch_codes[0])
        onnx_codes = _session(ort, temps[ENCODER_FILE]).run(None, {"image": x.numpy()})
        z = torch_codes[0].numpy()
        onnx_images = _session(ort, temps[DECODER_FILE]).run(None, {"z": z})
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
    example: torch.Tensor,
    path: Path,
    names: tuple[str, tuple[str, ...]],
    opset: int,
) -> None:
    input_name, output_names = names
    try:
        with _quiet_exporter():
            torch.onnx.export(
                graph.eval(),
                (example,),
                str(path),
                input_names=[input_name],
                output_names=list(output_names),
                opset_version=opset,
                dynamo=True,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
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
