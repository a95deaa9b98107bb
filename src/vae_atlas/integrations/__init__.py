"""Optional bridges to the tools users already run: TensorBoard, MLflow and ONNX.

Each module here either *listens* to training (a callback handed to
``train(on_epoch_end=...)`` by the command line) or *reads* a finished run; training itself never
imports them, and each imports its third-party package only when used
(:func:`~vae_atlas.integrations.extras.require`), so the core installs without them.
"""

from __future__ import annotations

from vae_atlas.integrations.extras import MissingExtraError, require

__all__ = ["MissingExtraError", "require"]
