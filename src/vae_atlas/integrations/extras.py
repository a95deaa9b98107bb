"""Optional packages, imported only when a feature asks for them, with a one-line message
naming the pip extra that provides them when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from vae_atlas.config import ConfigError

# import name -> (package name on PyPI, vae-atlas extra that installs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "tensorboard": ("tensorboard", "tensorboard"),
    "mlflow": ("mlflow", "mlflow"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "onnxscript": ("onnxscript", "onnx"),
}


class MissingExtraError(ConfigError):
    """A feature was asked for whose optional package is not installed."""


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature`` (e.g. ``"--tensorboard"``), or raise
    :class:`MissingExtraError` saying which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        package, extra = EXTRAS.get(top, (top, top))
        raise MissingExtraError(
            f"{feature} needs the {package} package: pip install 'vae-atlas[{extra}]'"
        ) from None
