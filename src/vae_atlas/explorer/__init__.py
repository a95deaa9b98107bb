"""Interactive latent-space explorer: a local FastAPI app and a static page (``vae-atlas explore``).

Decode anywhere in the latent space as the pointer moves, inspect posteriors and neighbours,
interpolate, steer every dimension, sample the prior and encode your own images.
"""

from vae_atlas.explorer.app import create_app
from vae_atlas.explorer.state import ExplorerRun

__all__ = ["ExplorerRun", "create_app"]
