"""Interactive latent-space explorer: a local FastAPI app and a static page (``vae-atlas explore``).

Decode anywhere in the latent space as the pointer moves, inspect posteriors and neighbours,
interpolate, steer every dimension, sample the prior and encode your own images.
"""

import importlib
import sys
import types
from typing import Any

from vae_atlas.explorer.app import create_app
from vae_atlas.explorer.state import ExplorerRun

__all__ = ["ExplorerRun", "create_app"]


class ExplorerPackage(types.ModuleType):
    """This package's type: ``va.explorer(run, ...)``, the notebook widget, shares its name, so
    calling the package makes the widget (:func:`vae_atlas.notebook.explorer`). The notebook
    layer sits above this one; it is looked up by name only when called, so the explorer itself
    never depends on it."""

    def __call__(self, runs: Any, **kwargs: Any) -> Any:
        return importlib.import_module("vae_atlas.notebook").explorer(runs, **kwargs)


sys.modules[__name__].__class__ = ExplorerPackage
